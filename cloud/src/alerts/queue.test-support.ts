import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { webhookDeliveries } from '../db/schema.ts';
import { addCounts, claimDue, DEFAULT_WEBHOOK_TIMEOUT_MS, sendLane, type DeliveryCounts, type Fetch } from './queue.ts';

/**
 * One claim (CLAIM_BATCH deliveries, most urgent first) and its lanes sent, each webhook's in
 * claim order and the webhooks' at once: the claim and retry rules without the senders' loops
 * (`startSender`, `sendRound`), which claim again while anything is due and so send more per call.
 */
export async function deliverDue(db: Db, opts: { fetch: Fetch; now?: () => Date; timeoutMs?: number; log?: (l: string) => void }): Promise<DeliveryCounts> {
  const now = opts.now ?? (() => new Date());
  const timeoutMs = opts.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const lanes = await claimDue(db, { timeoutMs });
  const counts = await Promise.all(lanes.map((lane) => sendLane(db, lane, { ...opts, now, timeoutMs })));
  return counts.reduce(addCounts, { delivered: 0, retried: 0, failed: 0 });
}

/**
 * As if `ms` passed on the database's clock, which decides when a delivery is due
 * (../db/clock.ts): every delivery's next attempt moved that much earlier.
 */
export async function elapse(db: Db, ms: number): Promise<void> {
  await db.update(webhookDeliveries).set({ nextAttemptAt: sql`${webhookDeliveries.nextAttemptAt} - ${ms}::double precision * interval '1 millisecond'` });
}
