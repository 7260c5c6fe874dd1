import type { Db } from '../db/client.ts';
import { addCounts, CLAIM_BATCH, claimDue, DEFAULT_WEBHOOK_TIMEOUT_MS, sendLane, type DeliveryCounts, type Fetch, type Lane } from './queue.ts';

/** Deliveries a sending round of the Workers cron claims at most (each send is one of the invocation's subrequests). */
export const ROUND_SENDS = 10 * CLAIM_BATCH;

/**
 * Webhooks the Node process sends to at once. A fleet's every webhook dead or slow at once (a
 * receivers' outage) would otherwise hold as many connections and workers as there are webhooks,
 * each for its timeouts; the rest wait for a worker, most urgent first, as their claims come.
 */
export const SENDING_WEBHOOKS = 32;

/**
 * Webhooks a Workers cron round sends to at once: an invocation has six connections waiting for
 * response headers at most, and queues a seventh (Cloudflare's Workers limits), with its timeout
 * already running. Its database connection is one of the six.
 */
export const ROUND_WEBHOOKS = 4;

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
  /** Webhooks sent to at once (default SENDING_WEBHOOKS). */
  maxWebhooks?: number;
  onDeliveries?: (counts: DeliveryCounts) => void;
  log?: (l: string) => void;
}): Sender {
  const maxWebhooks = o.maxWebhooks ?? SENDING_WEBHOOKS;
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
      [lane] = await claimDue(o.db, { timeoutMs: o.timeoutMs, only: first.webhookId });
    }
  };
  const start = (lane: Lane) => {
    // Behind the webhook's worker if it has one: its deliveries go one at a time, in claim order.
    const before = workers.get(lane.webhookId) ?? Promise.resolve();
    const w: Promise<void> = before
      .then(() => work(lane))
      .catch(failed)
      .finally(() => {
        if (workers.get(lane.webhookId) !== w) return;
        workers.delete(lane.webhookId);
        // A worker is free: other webhooks' deliveries may be waiting for one.
        if (!closed) void claim();
      });
    workers.set(lane.webhookId, w);
  };
  /** Claims for the webhooks without a worker while there is room for more workers and something due for them. */
  const claimForIdle = async (): Promise<void> => {
    for (;;) {
      // Each new lane is a webhook without a worker, and a claim of `room` deliveries makes `room` lanes at most (fewer
      // when one webhook has several of the most urgent: then the room left is claimed for again).
      const room = maxWebhooks - workers.size;
      if (room <= 0 || closed) return;
      const limit = Math.min(CLAIM_BATCH, room);
      const lanes = await claimDue(o.db, { timeoutMs: o.timeoutMs, busy: [...workers.keys()], limit });
      for (const lane of lanes) if (!closed) start(lane);
      // Short: everything due for the webhooks without a worker is claimed.
      if (deliveriesIn(lanes) < limit) return;
    }
  };
  const claim = (): Promise<void> => {
    claiming ??= claimForIdle()
      .catch(failed)
      .finally(() => (claiming = null));
    return claiming;
  };
  const timer = setInterval(() => void (closed || claim()), o.intervalMs ?? 2_000);
  timer.unref();
  return {
    async tick() {
      await claim();
      // A worker that ends claims again (for the webhooks that waited for one): wait for that too.
      while (workers.size || claiming) await Promise.all([...workers.values(), claiming]);
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
  /** Webhooks sent to at once (default ROUND_WEBHOOKS). */
  maxWebhooks?: number;
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
  const maxWebhooks = o.maxWebhooks ?? ROUND_WEBHOOKS;
  let left = ROUND_SENDS;
  // A claim's share of what is left is taken before it is made, so lanes claiming at once never claim more than ROUND_SENDS together.
  const claim = async (which: { only?: string; busy?: string[] }, most = CLAIM_BATCH): Promise<{ lanes: Lane[]; asked: number }> => {
    const limit = Math.min(most, left);
    if (limit <= 0) return { lanes: [], asked: 0 };
    left -= limit;
    let lanes: Lane[] = [];
    try {
      lanes = await claimDue(o.db, { timeoutMs, ...which, limit });
    } finally {
      left += limit - deliveriesIn(lanes);
    }
    return { lanes, asked: limit };
  };
  const work = async (first: Lane): Promise<void> => {
    for (let lane: Lane | undefined = first; lane;) {
      // Awaited first: `out = addCounts(out, await …)` reads `out` before the await, and the lanes' counts overwrite each other.
      const counts = await sendLane(o.db, lane, send);
      out = addCounts(out, counts);
      [lane] = (await claim({ only: first.webhookId })).lanes;
    }
  };
  const lanes = new Map<string, Promise<void>>();
  // Whether the webhooks without a lane may have deliveries due.
  let idleDue = true;
  for (;;) {
    const room = maxWebhooks - lanes.size;
    if (idleDue && room > 0 && left > 0) {
      // A claim of `room` deliveries makes `room` lanes at most.
      const { lanes: claimed, asked } = await claim({ busy: [...lanes.keys()] }, room);
      for (const lane of claimed)
        lanes.set(
          lane.webhookId,
          work(lane).finally(() => lanes.delete(lane.webhookId)),
        );
      // Short: everything due for the webhooks without a lane is claimed. Asked for none: what is left of the
      // round is promised to the lanes' claims under way, and may come back.
      idleDue = asked > 0 && deliveriesIn(claimed) === asked;
      // Full, with room for more lanes: one webhook's deliveries filled the claim; the others' are claimed for at once.
      if (idleDue && lanes.size < maxWebhooks) continue;
    }
    if (!lanes.size) break;
    await Promise.race(lanes.values());
    // A lane that ended frees room, and may have ended on a claim of nothing while the others' claims held
    // the rest of the round: its webhook's deliveries may still be due.
    idleDue = true;
  }
  return out;
}
