export interface WaitForOptions {
  /** Give up after this long (default 5 s). */
  timeoutMs?: number;
  /** What is awaited, for the timeout message. */
  what?: string;
  /** Pause between polls (default 20 ms). */
  intervalMs?: number;
}

/** What waitFor throws when `cond` does not hold in time (an exception from `cond` is thrown as it is). */
class WaitTimeout extends Error {}

/**
 * Polls `cond` until it returns a truthy value and returns that value; throws
 * `timed out after N ms waiting for WHAT` when it does not come in time. For tests that wait on
 * something outside the process (a socket, a child, a file); work inside it has its own
 * completion to await. An exception from `cond` ends the wait at once.
 */
export async function waitFor<T>(cond: () => T | Promise<T>, o: WaitForOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = o.timeoutMs ?? 5_000;
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() >= end) throw new WaitTimeout(`timed out after ${timeoutMs} ms waiting for ${o.what ?? 'a condition'}`);
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 20));
  }
}

/**
 * Whether `cond` holds within `ms` (polled as waitFor does): false when it does not, for checks that
 * something does not happen. An exception from `cond` is thrown, not taken for a no.
 */
export function within(cond: () => unknown, ms: number): Promise<boolean> {
  return waitFor(cond, { timeoutMs: ms }).then(
    () => true,
    (e: unknown) => {
      if (e instanceof WaitTimeout) return false;
      throw e;
    },
  );
}
