import { and, asc, inArray, isNull, lt, lte, min, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { isBecameMaster } from '../db/event-kinds.ts';
import { rowsOf } from '../db/rows.ts';
import { alerts, events, rollouts, webhooks } from '../db/schema.ts';
import { ACTIVE_STATES } from '../rollout/plan.ts';
import { INCIDENT_DAYS } from '../status/incidents.ts';
import { alertHorizon, deliveryHorizon, eventHorizon, type EventHorizon, type RetentionFacts } from './horizon.ts';

/** Rows one statement deletes at most: a round never holds a long lock, nor one huge transaction's WAL. */
const BATCH = 5_000;

export interface RetentionRound {
  events: number;
  deliveries: number;
  /** Resolved alerts (open ones never go). */
  alerts: number;
  /** The round stopped at its bound with more to delete: the caller runs another soon. */
  more: boolean;
}

/** What a round deleted, as the log says it; null when it deleted nothing (nothing to log). */
export function retentionLine(r: RetentionRound, days: number): string | null {
  if (!r.events && !r.deliveries && !r.alerts) return null;
  const alerts = r.alerts ? `, and ${r.alerts} alerts resolved more than ${Math.max(days, INCIDENT_DAYS)} days ago` : '';
  return `retention: deleted ${r.events} events and ${r.deliveries} finished webhook deliveries older than ${days} days${alerts}${r.more ? '; more to go' : ''}`;
}

/** What still needs old events (the rollouts running, the webhooks' cursors), read now. */
async function readRetentionFacts(db: Db, days: number, now: number): Promise<RetentionFacts> {
  const [rollout] = await db
    .select({ at: min(rollouts.createdAt) })
    .from(rollouts)
    .where(inArray(rollouts.state, [...ACTIVE_STATES]));
  const [hook] = await db
    .select({ cursor: min(webhooks.lastEventId) })
    .from(webhooks)
    .where(isNull(webhooks.disabledAt));
  return { now, days, oldestActiveRollout: rollout?.at?.getTime() ?? null, webhookCursor: hook?.cursor == null ? null : Number(hook.cursor) };
}

/**
 * Deletes up to `limit` of the oldest events within the horizon and answers how many went. The
 * same statement adds the deleted transitions to MASTER to `pruned_master_transitions`, so the
 * fleet metrics' counter (stored events plus that) reads the same before and after, in every
 * snapshot. Replicas pruning at once each count only the rows their own statement deleted.
 */
export async function pruneEvents(db: Db, horizon: EventHorizon, limit = BATCH): Promise<number> {
  const answer = await db.execute(sql`
    WITH gone AS (
      DELETE FROM events WHERE id IN (${oldestEvents(db, horizon, limit)})
      RETURNING site_id, coalesce(data ->> 'instance', '') AS instance, (${isBecameMaster}) AS became_master
    ), tallied AS (
      INSERT INTO pruned_master_transitions (site_id, instance, count)
        SELECT site_id, instance, count(*) FROM gone WHERE became_master AND site_id IS NOT NULL GROUP BY site_id, instance
      ON CONFLICT (site_id, instance) DO UPDATE SET count = pruned_master_transitions.count + excluded.count
    )
    SELECT count(*)::int AS n FROM gone`);
  return rowsOf<{ n: number }>(answer)[0]?.n ?? 0;
}

/** The ids of the oldest `limit` events within the horizon, through `events_received_at`. */
export function oldestEvents(db: Db, horizon: EventHorizon, limit: number) {
  return db
    .select({ id: events.id })
    .from(events)
    .where(and(lt(events.receivedAt, horizon.before), horizon.throughId === null ? undefined : lte(events.id, horizon.throughId)))
    .orderBy(asc(events.receivedAt))
    .limit(limit);
}

/**
 * Deletes up to `limit` finished deliveries (delivered, or given up) last tried before `before`.
 * `next_attempt_at` is when each was last claimed for a send, and `webhook_deliveries_due`
 * (status, next_attempt_at) finds them without reading the rest.
 */
async function pruneDeliveries(db: Db, before: Date, limit = BATCH): Promise<number> {
  const answer = await db.execute(sql`
    DELETE FROM webhook_deliveries WHERE id IN (
      SELECT id FROM webhook_deliveries
      WHERE status IN ('delivered', 'failed') AND next_attempt_at < ${before.toISOString()}::timestamptz
      LIMIT ${limit}::integer)
    RETURNING 1`);
  return rowsOf(answer).length;
}

/**
 * Deletes up to `limit` alerts resolved before `before`, through `alerts_resolved`. An open alert
 * (resolved_at null) is never among them: it is the row that keeps a restart from raising it again.
 */
async function pruneAlerts(db: Db, before: Date, limit = BATCH): Promise<number> {
  const answer = await db.execute(sql`DELETE FROM alerts WHERE id IN (${resolvedBefore(db, before, limit)}) RETURNING 1`);
  return rowsOf(answer).length;
}

/** The ids of up to `limit` alerts resolved before `before`. */
export function resolvedBefore(db: Db, before: Date, limit: number) {
  return db.select({ id: alerts.id }).from(alerts).where(lt(alerts.resolvedAt, before)).limit(limit);
}

const NONE = { deleted: 0, more: false };

/** Runs `prune` (one batch) until a batch comes back short or `maxBatches` ran; `more` when it stopped at the bound. */
async function inBatches(prune: () => Promise<number>, batch: number, maxBatches: number): Promise<{ deleted: number; more: boolean }> {
  let deleted = 0;
  for (let i = 0; i < maxBatches; i++) {
    const n = await prune();
    deleted += n;
    if (n < batch) return { deleted, more: false };
  }
  return { deleted, more: maxBatches > 0 };
}

/**
 * One round of retention: up to `maxBatches` batches of each kind (events, finished deliveries,
 * resolved alerts), oldest first. PGlite runs no autovacuum, so there (`vacuum`) a round that
 * deleted reclaims the space for new rows.
 */
export async function retentionRound(db: Db, o: { days: number; now: number; maxBatches: number; vacuum?: boolean; batch?: number }): Promise<RetentionRound> {
  const batch = o.batch ?? BATCH;
  // Retention off: nothing to read either.
  if (o.days <= 0) return { events: 0, deliveries: 0, alerts: 0, more: false };
  const horizon = eventHorizon(await readRetentionFacts(db, o.days, o.now));
  const deliveries = deliveryHorizon(o);
  const ev = horizon ? await inBatches(() => pruneEvents(db, horizon, batch), batch, o.maxBatches) : NONE;
  const dl = deliveries ? await inBatches(() => pruneDeliveries(db, deliveries, batch), batch, o.maxBatches) : NONE;
  const resolved = alertHorizon(o);
  const al = resolved ? await inBatches(() => pruneAlerts(db, resolved, batch), batch, o.maxBatches) : NONE;
  const out: RetentionRound = { events: ev.deleted, deliveries: dl.deleted, alerts: al.deleted, more: ev.more || dl.more || al.more };
  if (o.vacuum && out.events) await db.execute(sql`VACUUM events`);
  if (o.vacuum && out.deliveries) await db.execute(sql`VACUUM webhook_deliveries`);
  if (o.vacuum && out.alerts) await db.execute(sql`VACUUM alerts`);
  return out;
}
