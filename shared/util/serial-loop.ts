/**
 * The shell every background worker of the cloud shares (publisher drain, key rotation, staged
 * rollouts): one step at a time — a run waits for the one in progress, so steps never overlap —,
 * a kick that asks for a step soon (kicks until that step starts coalesce into one, also while
 * another step runs), a poll that kicks every `pollMs` (unref'd: it never keeps the process
 * alive), and a close that stops kicking and waits for the step in progress. A failing step is
 * reported to `onError` and does not stop the loop.
 */
export interface SerialLoop<T> {
  /** Runs one step after any in progress; rejects with that step's error. */
  run(): Promise<T>;
  /** Asks for a step soon; nothing once closed. */
  kick(): void;
  /** True once `close()` was called: steps check it to stop early. */
  readonly closed: boolean;
  close(): Promise<void>;
}

export function startSerialLoop<T>(step: () => Promise<T>, o: { pollMs: number; onError: (err: Error) => void }): SerialLoop<T> {
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;
  let kickTimer: NodeJS.Timeout | undefined;
  /**
   * A kicked step is waiting (for its timer, or for the step in progress): the kicks until it
   * starts are its. Cleared when it starts, not when it is queued: a burst of applies, each
   * kicking while a long drain ran, used to queue a step per kick (67 drains after a burst of
   * 100 applies, each after the first reading the whole outbox for nothing).
   */
  let kicked = false;

  function run(): Promise<T> {
    return chained(step);
  }

  function chained(s: () => Promise<T>): Promise<T> {
    const next = chain.then(s, s);
    chain = next.catch((err: Error) => o.onError(err));
    return next;
  }

  const kickedStep = () => {
    kicked = false;
    return step();
  };

  function kick(): void {
    if (closed || kicked) return;
    kicked = true;
    kickTimer = setTimeout(() => {
      kickTimer = undefined;
      chained(kickedStep).catch(() => {});
    }, 0);
  }

  const poll = setInterval(kick, o.pollMs);
  poll.unref();

  return {
    run,
    kick,
    get closed() {
      return closed;
    },
    async close() {
      closed = true;
      clearInterval(poll);
      if (kickTimer) clearTimeout(kickTimer);
      await chain.catch(() => {});
    },
  };
}
