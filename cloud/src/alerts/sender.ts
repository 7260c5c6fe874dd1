import type { Db } from '../db/client.ts';
import { addCounts, CLAIM_BATCH, claimDue, DEFAULT_WEBHOOK_TIMEOUT_MS, sendLane, type DeliveryCounts, type Fetch, type Lane } from './queue.ts';

/** Deliveries a sending round of the Workers cron claims at most (each send is one of the invocation's subrequests). */
export const ROUND_SENDS = 10 * CLAIM_BATCH;

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

const deliveriesIn = (lanes: Lane[]) => lanes.reduce((n, l) => n + l.ids.length, 0);

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
 * Sends what is due, the Workers cron's sending (the Node process sends with `startSender`): a
 * lane per webhook, as there, each claiming its webhook's next deliveries as it finishes its last,
 * and claims across the other webhooks until nothing more is due, ROUND_SENDS at most. With one
 * claim's sends awaited together, a receiver that never answers held every other webhook's next
 * claim for its timeouts.
 */
export async function sendRound(o: SendRoundOptions): Promise<DeliveryCounts> {
  const timeoutMs = o.webhookTimeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const send = { fetch: o.fetch, now: o.now, timeoutMs, log: o.log };
  let out: DeliveryCounts = { delivered: 0, retried: 0, failed: 0 };
  let left = ROUND_SENDS;
  // A claim's share of what is left is taken before it is made, so lanes claiming at once never claim more than ROUND_SENDS together.
  const claim = async (which: { only?: string; busy?: string[] }): Promise<Lane[]> => {
    const limit = Math.min(CLAIM_BATCH, left);
    if (limit <= 0) return [];
    left -= limit;
    let lanes: Lane[] = [];
    try {
      lanes = await claimDue(o.db, { at: o.now().getTime(), timeoutMs, ...which, limit });
    } finally {
      left += limit - deliveriesIn(lanes);
    }
    return lanes;
  };
  const work = async (first: Lane): Promise<void> => {
    for (let lane: Lane | undefined = first; lane;) {
      // Awaited first: `out = addCounts(out, await …)` reads `out` before the await, and the lanes' counts overwrite each other.
      const counts = await sendLane(o.db, lane, send);
      out = addCounts(out, counts);
      [lane] = await claim({ only: first.webhookId });
    }
  };
  const lanes = new Map<string, Promise<void>>();
  while (left > 0) {
    const claimed = await claim({ busy: [...lanes.keys()] });
    for (const lane of claimed) lanes.set(lane.webhookId, work(lane));
    // Short: everything due for the webhooks without a lane is claimed.
    if (deliveriesIn(claimed) < CLAIM_BATCH) break;
  }
  await Promise.all(lanes.values());
  return out;
}
