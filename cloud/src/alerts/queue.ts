import { and, asc, count, eq, gt, inArray, isNull, lt, lte, not, or, sql } from 'drizzle-orm';
import { inJsonList } from '../db/in-json.ts';
import type { Db } from '../db/client.ts';
import { dbNow, dbNowPlus } from '../db/clock.ts';
import { events, sites, webhookDeliveries, webhooks } from '../db/schema.ts';
import { alertOf, alertPriority, newDeliveryId, payloadFor, wants } from './payload.ts';
import { classifyResponse, nextDelayMs } from './retry.ts';
import { signWebhook } from './standard-webhooks.ts';
import { walkFilter } from './walk-filter.ts';

/** Matching events one batch reads and queues at most, in one transaction. */
const BATCH = 200;
/**
 * Events one round walks per webhook at most, batch after batch. One batch a round (every 2 s)
 * left a 10,000-node apply's `apply.succeeded` events 100 s ahead of an alert raised after them:
 * the cursor walks every event, wanted or not (the unwanted ones only in SQL now). A bound, so one
 * round stays bounded too.
 */
export const ROUND_EVENTS = 20_000;
/** Deliveries one claim takes and sends; a claim lasts as long as sending its webhook's share could take, plus slack. */
export const CLAIM_BATCH = 20;
/**
 * A claim's slack beyond its send's timeout, in timeouts: room for the replica's own writes and a
 * busy event loop around the send (30 s at the default 10 s timeout). It scales with the timeout
 * so that a short timeout also shortens how long a dead replica's claim holds its delivery back.
 */
const CLAIM_SLACK_TIMEOUTS = 3;
/** How long one webhook send may take before it counts as failed (`serve --webhook-timeout`). */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * Queues every new event for every webhook that wants it, in one transaction per batch with the
 * webhook's cursor (`last_event_id`), so an event is queued once even across restarts. `baseUrl`
 * (the server's public URL) makes Slack messages link to the site's status page.
 */
export async function enqueueDeliveries(db: Db, opts: { baseUrl?: string } = {}): Promise<number> {
  let queued = 0;
  const hooks = await db.select().from(webhooks).where(isNull(webhooks.disabledAt));
  for (const hook of hooks) {
    // Batch after batch, each in a transaction of its own, until the events run out (a short batch)
    // or the round has walked its ROUND_EVENTS.
    for (let walked = 0; walked < ROUND_EVENTS;) {
      const batch = await enqueueBatch(db, hook, ROUND_EVENTS - walked, opts.baseUrl);
      queued += batch.queued;
      walked += batch.walked;
      if (batch.matched < BATCH) break;
    }
  }
  return queued;
}

interface BatchOutcome {
  /** Events the cursor moved past, wanted or not. */
  walked: number;
  /** Rows the SQL pre-filter let through to `wants`. */
  matched: number;
  queued: number;
}

/**
 * Queues what the webhook wants among the next `budget` events after its cursor, BATCH matching
 * rows at most, and moves the cursor past them. Only rows `walkFilter` lets through are read into
 * JS; `wants` still decides each, so the filter can let an extra row through but never hide one.
 */
async function enqueueBatch(db: Db, hook: typeof webhooks.$inferSelect, budget: number, baseUrl: string | undefined): Promise<BatchOutcome> {
  return db.transaction(async (tx) => {
    // The webhook's row, locked: replicas queueing at once take turns, and each reads the
    // cursor the previous one moved, so no event is queued twice.
    const [cursor] = await tx.select({ lastEventId: webhooks.lastEventId }).from(webhooks).where(eq(webhooks.id, hook.id)).for('update');
    if (!cursor) return { walked: 0, matched: 0, queued: 0 };
    // The window this batch walks (the next `budget` events), read BEFORE the filtered read: that
    // read, bounded by the window's end, sees every event of the window, so a short batch may move
    // the cursor to the end without passing an event it did not look at. Read after it, the window
    // could take in an event committed in between that the filtered read never saw.
    const next = tx.select({ id: events.id }).from(events).where(gt(events.id, cursor.lastEventId)).orderBy(asc(events.id)).limit(budget).as('next');
    const [window] = await tx.select({ end: sql<number>`max(${next.id})`.mapWith(Number), size: count() }).from(next);
    if (!window.size) return { walked: 0, matched: 0, queued: 0 };
    const rows = await tx
      .select({ e: events, siteName: sites.name })
      .from(events)
      .innerJoin(sites, eq(sites.id, events.siteId))
      .where(and(gt(events.id, cursor.lastEventId), lte(events.id, window.end), walkFilter(hook)))
      .orderBy(asc(events.id))
      .limit(BATCH);
    const queue = rows.flatMap(({ e, siteName }) => {
      const alert = alertOf(e, siteName);
      return wants(hook, alert)
        ? [{ id: newDeliveryId(), webhookId: hook.id, eventId: e.id, payload: payloadFor(hook, alert, baseUrl), priority: alertPriority(alert) }]
        : [];
    });
    // One statement for the batch: a webhook that wants every event of a 10,000-node apply paid a
    // round trip and a statement per delivery, most of its walk.
    if (queue.length) await tx.insert(webhookDeliveries).values(queue);
    // A short batch read every row of its window the webhook could want; a full one, those up to its last.
    const full = rows.length === BATCH;
    const to = full ? rows[rows.length - 1].e.id : window.end;
    const walked = full ? await eventsBetween(tx, cursor.lastEventId, to) : window.size;
    await tx.update(webhooks).set({ lastEventId: to }).where(eq(webhooks.id, hook.id));
    return { walked, matched: rows.length, queued: queue.length };
  });
}

/** How many events have an id in (after, upTo]: what a full batch walked, for the round's bound. */
async function eventsBetween(tx: Pick<Db, 'select'>, after: number, upTo: number): Promise<number> {
  const [{ n }] = await tx
    .select({ n: count() })
    .from(events)
    .where(and(gt(events.id, after), lte(events.id, upTo)));
  return n;
}

export interface DeliveryCounts {
  delivered: number;
  retried: number;
  failed: number;
}

export type Fetch = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{ status: number }>;

export const addCounts = (a: DeliveryCounts, b: DeliveryCounts): DeliveryCounts => ({
  delivered: a.delivered + b.delivered,
  retried: a.retried + b.retried,
  failed: a.failed + b.failed,
});

/** One webhook's claimed deliveries, in the order they are to be sent. */
export interface Lane {
  webhookId: string;
  ids: string[];
}

/**
 * Claims up to CLAIM_BATCH due deliveries, most urgent first (skipping rows another replica is
 * claiming), by moving their next attempt past this round's sends: replicas never send one
 * delivery at once, and a replica that dies mid-send leaves its claims to expire into an ordinary
 * retry with the same webhook-id. `only` claims one webhook's; `busy` skips webhooks this process
 * is sending to already; `limit` claims fewer than CLAIM_BATCH. Answers them by webhook, each
 * webhook's in claim order.
 */
export async function claimDue(db: Db, o: { timeoutMs?: number; only?: string; busy?: readonly string[]; limit?: number }): Promise<Lane[]> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const rows = await db.transaction(async (tx) => {
    const claimed = await tx
      .select({ id: webhookDeliveries.id, webhookId: webhookDeliveries.webhookId })
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.status, 'pending'),
          // Due on the database's clock, as deliveries are queued and put off (../db/clock.ts): on this
          // process's, a Worker's cron whose clock ran behind the database's left the deliveries its
          // own round had queued for the next cron, a minute later.
          lte(webhookDeliveries.nextAttemptAt, dbNow),
          o.only === undefined ? undefined : eq(webhookDeliveries.webhookId, o.only),
          o.busy?.length ? not(inJsonList(webhookDeliveries.webhookId, o.busy)) : undefined,
        ),
      )
      .orderBy(asc(webhookDeliveries.priority), asc(webhookDeliveries.nextAttemptAt), asc(webhookDeliveries.eventId))
      .limit(o.limit ?? CLAIM_BATCH)
      .for('update', { skipLocked: true });
    // Each claim lasts until its turn in its webhook's sends is surely over (the i-th is sent after
    // at most i timeouts), so a replica that dies mid-send holds up the delivery it was sending for
    // one timeout and the slack, not for the whole batch's time.
    const turns = new Map<string, number>();
    for (const r of claimed) {
      const turn = turns.get(r.webhookId) ?? 0;
      turns.set(r.webhookId, turn + 1);
      await tx
        .update(webhookDeliveries)
        .set({ nextAttemptAt: dbNowPlus((turn + 1 + CLAIM_SLACK_TIMEOUTS) * timeoutMs) })
        .where(eq(webhookDeliveries.id, r.id));
    }
    return claimed;
  });
  const lanes = new Map<string, string[]>();
  for (const r of rows) lanes.set(r.webhookId, [...(lanes.get(r.webhookId) ?? []), r.id]);
  return [...lanes].map(([webhookId, ids]) => ({ webhookId, ids }));
}

/**
 * Sends one webhook's claimed deliveries in claim order: the i-th claim is timed for the i-th
 * send, so a send never outlives its claim. `stopped` ends it between sends (a closing server); the
 * rest of its claims expire into ordinary retries. A send to be retried ends it too, the rest
 * deferred to that retry (`deferWebhook`).
 */
export async function sendLane(
  db: Db,
  lane: Lane,
  opts: { fetch: Fetch; now: () => Date; timeoutMs: number; log?: (l: string) => void; stopped?: () => boolean },
): Promise<DeliveryCounts> {
  const { now, timeoutMs } = opts;
  const out = { delivered: 0, retried: 0, failed: 0 };
  const { ids } = lane;
  const due = await db
    .select({ d: webhookDeliveries, url: webhooks.url, secret: webhooks.secret, format: webhooks.format })
    .from(webhookDeliveries)
    .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
    .where(inArray(webhookDeliveries.id, ids));
  const turn = new Map(ids.map((id, i) => [id, i]));
  due.sort((a, b) => turn.get(a.d.id)! - turn.get(b.d.id)!);
  for (const { d, url, secret, format } of due) {
    if (opts.stopped?.()) break;
    const body = JSON.stringify(d.payload);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'lvsfleet-webhooks/1' };
    if (format === 'standard') Object.assign(headers, signWebhook(secret, d.id, Math.floor(now().getTime() / 1000), body));
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await opts.fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
      status = res.status;
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const verdict = classifyResponse(status);
    const attempts = d.attempts + 1;
    if (verdict === 'delivered') {
      await db
        .update(webhookDeliveries)
        .set({ status: 'delivered', attempts, lastStatus: status, lastError: null, deliveredAt: now() })
        .where(eq(webhookDeliveries.id, d.id));
      out.delivered++;
      continue;
    }
    const delay = verdict === 'retry' ? nextDelayMs(attempts) : null;
    const lastError = error ?? (status !== null && status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`);
    if (delay === null) {
      await db.update(webhookDeliveries).set({ status: 'failed', attempts, lastStatus: status, lastError }).where(eq(webhookDeliveries.id, d.id));
      opts.log?.(`webhook ${url}: gave up on ${d.id} after ${attempts} attempts (${lastError})`);
      out.failed++;
    } else {
      const [{ retryAt }] = await db
        .update(webhookDeliveries)
        .set({ attempts, lastStatus: status, lastError, nextAttemptAt: dbNowPlus(delay) })
        .where(eq(webhookDeliveries.id, d.id))
        .returning({ retryAt: webhookDeliveries.nextAttemptAt });
      out.retried++;
      await deferWebhook(db, lane, d.id, retryAt);
      break;
    }
  }
  return out;
}

/**
 * After a send to be retried (a timeout, a refusal, a 5xx), the webhook's other pending deliveries
 * wait for that retry too, in their order: the rest of this lane's claims, and any due before it.
 * A receiver that is down then costs one send per back-off, not a timeout for each of its
 * deliveries, and holds a sending worker (of a bounded number) for that one send only.
 */
async function deferWebhook(db: Db, lane: Lane, failedId: string, retryAt: Date): Promise<void> {
  const rest = lane.ids.filter((id) => id !== failedId);
  await db
    .update(webhookDeliveries)
    .set({ nextAttemptAt: retryAt })
    .where(
      and(
        eq(webhookDeliveries.webhookId, lane.webhookId),
        eq(webhookDeliveries.status, 'pending'),
        not(eq(webhookDeliveries.id, failedId)),
        // Ours (claimed past the retry) come back to it; the others only ever move later (another replica's claims stay its own).
        rest.length ? or(inArray(webhookDeliveries.id, rest), lt(webhookDeliveries.nextAttemptAt, retryAt)) : lt(webhookDeliveries.nextAttemptAt, retryAt),
      ),
    );
}
