import type { Db } from '../db/client.ts';
import { addCounts, CLAIM_BATCH, claimDue, deliverDue, sendLane, type DeliveryCounts, type Fetch, type Lane } from './queue.ts';

/** Claims a sending round of the Workers cron makes at most while they come back full. */
const SEND_CLAIMS = 10;

export interface Sender {
  /** Claims what is due for webhooks not being sent to, and starts sending it; resolves once every send under way is done. */
  tick(): Promise<void>;
  /** Claims and starts sending at once, without waiting for the sends (after an alerting round queued something). */
  kick(): void;
  close(): Promise<void>;
}

/**
 * The Node process's webhook sending: one worker per webhook with deliveries due, each sending its
 * webhook's deliveries one after another (most urgent first) and claiming that webhook's next ones
 * until none are due. A receiver that never answers holds its own worker for its timeouts, not the
 * other webhooks' deliveries, nor the alerting round that queues them.
 */
export function startSender(o: {
  db: Db;
  fetch: Fetch;
  now: () => Date;
  timeoutMs: number;
  intervalMs?: number;
  onDeliveries?: (counts: DeliveryCounts) => void;
  log?: (l: string) => void;
}): Sender {
  const workers = new Map<string, Promise<void>>();
  let claiming: Promise<void> | null = null;
  let closed = false;
  const stopped = () => closed;
  const failed = (err: unknown) => o.log?.(`webhook sending failed: ${err instanceof Error ? err.message : String(err)}`);

  const work = async (first: Lane): Promise<void> => {
    for (let lane: Lane | undefined = first; lane && !closed;) {
      // Sent first, counted after: `onDeliveries?.(await …)` would skip the send itself when nobody counts.
      const counts = await sendLane(o.db, lane, { fetch: o.fetch, now: o.now, timeoutMs: o.timeoutMs, log: o.log, stopped });
      o.onDeliveries?.(counts);
      if (closed) break;
      [lane] = await claimDue(o.db, { at: o.now().getTime(), timeoutMs: o.timeoutMs, only: first.webhookId });
    }
  };
  const start = (lane: Lane) => {
    // Behind the webhook's worker if it has one: its deliveries go one at a time, in claim order.
    const before = workers.get(lane.webhookId) ?? Promise.resolve();
    const w: Promise<void> = before
      .then(() => work(lane))
      .catch(failed)
      .finally(() => workers.get(lane.webhookId) === w && workers.delete(lane.webhookId));
    workers.set(lane.webhookId, w);
  };
  const claim = (): Promise<void> => {
    claiming ??= claimDue(o.db, { at: o.now().getTime(), timeoutMs: o.timeoutMs, busy: [...workers.keys()] })
      .then((lanes) => {
        for (const lane of lanes) if (!closed) start(lane);
      })
      .catch(failed)
      .finally(() => (claiming = null));
    return claiming;
  };
  const timer = setInterval(() => void (closed || claim()), o.intervalMs ?? 2_000);
  timer.unref();
  return {
    async tick() {
      await claim();
      while (workers.size) await Promise.all(workers.values());
    },
    kick() {
      if (!closed) void claim();
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await claiming;
      await Promise.all(workers.values());
    },
  };
}

/** What one sending round needs. */
export interface SendRoundOptions {
  db: Db;
  fetch: Fetch;
  now: () => Date;
  /** How long one webhook send may take (default 10 s). */
  webhookTimeoutMs?: number;
  log?: (l: string) => void;
}

/**
 * Sends what is due, claim after claim while they come back full (SEND_CLAIMS at most): the
 * Workers cron's sending, once a minute. One claim a round let a webhook that takes every event of
 * a large apply drain 20 deliveries a round. (The Node process sends with `startSender`.)
 */
export async function sendRound(o: SendRoundOptions): Promise<DeliveryCounts> {
  let out: DeliveryCounts = { delivered: 0, retried: 0, failed: 0 };
  for (let i = 0; i < SEND_CLAIMS; i++) {
    const c = await deliverDue(o.db, { fetch: o.fetch, now: o.now, timeoutMs: o.webhookTimeoutMs, log: o.log });
    out = addCounts(out, c);
    if (c.delivered + c.retried + c.failed < CLAIM_BATCH) break;
  }
  return out;
}
