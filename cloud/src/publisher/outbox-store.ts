import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { DocumentVersion } from '#shared/wire/desired.ts';
import type { Db } from '../db/client.ts';
import { dbNow, dbNowPlus } from '../db/clock.ts';
import { inJsonList } from '../db/in-json.ts';
import { rowsOf } from '../db/rows.ts';
import { OUTBOX_OPEN, outbox } from '../db/schema.ts';

/** The outbox queries the publisher needs (same SQL on PGlite and PostgreSQL). */
export type OutboxRow = typeof outbox.$inferSelect;

const open = inArray(outbox.status, OUTBOX_OPEN);

/** `column IN (the values)` as one JSON parameter (../db/in-json.ts); row ids compare as bigint. */
const inJson = (column: typeof outbox.id | typeof outbox.nodeId, values: readonly (string | number)[]) =>
  inJsonList(column, values, column === outbox.id ? 'bigint' : 'text');

/** Due on the database's clock (../db/clock.ts says why): written due at its now(), read against it. */
const dueNow = lte(outbox.nextAttemptAt, dbNow);

/**
 * Open (pending or failed) rows of every node that has at least one row due now, in (node,
 * revision, id) order; only that site's with `siteId` (the Workers publisher drains one site).
 * With them, the database's time of the read, which judged them: planDrain's `now`.
 */
export async function pendingForDueNodes(db: Db, limit: number, siteId?: string): Promise<{ rows: OutboxRow[]; now: Date }> {
  const ofSite = siteId === undefined ? undefined : eq(outbox.siteId, siteId);
  const dueNodes = db
    .selectDistinct({ n: outbox.nodeId })
    .from(outbox)
    .where(and(open, ofSite, dueNow));
  const read = await db
    .select({ row: outbox, now: sql<Date>`${dbNow}`.mapWith(outbox.nextAttemptAt) })
    .from(outbox)
    .where(and(open, ofSite, inArray(outbox.nodeId, dueNodes)))
    .orderBy(asc(outbox.nodeId), asc(outbox.revision), asc(outbox.overridesVersion), asc(outbox.id))
    .limit(limit);
  // No row read: nothing to plan, and no time of the database's to give.
  return { rows: read.map((r) => r.row), now: read[0]?.now ?? new Date() };
}

/** Newest document version (revision, then override generation) actually published (not skipped) for each of `nodeIds`. */
export async function lastPublished(db: Db, nodeIds: string[]): Promise<Map<string, DocumentVersion>> {
  if (!nodeIds.length) return new Map();
  const rows = await db
    .selectDistinctOn([outbox.nodeId], { nodeId: outbox.nodeId, revision: outbox.revision, overridesVersion: outbox.overridesVersion })
    .from(outbox)
    .where(and(eq(outbox.status, 'published'), inJson(outbox.nodeId, nodeIds)))
    .orderBy(asc(outbox.nodeId), sql`${outbox.revision} desc`, sql`${outbox.overridesVersion} desc`);
  return new Map(rows.map((r) => [r.nodeId, { revision: r.revision, overridesVersion: r.overridesVersion }]));
}

/** Newest document version still open (pending or failed, due or not) for each of `nodeIds`. */
export async function newestOpen(db: Db, nodeIds: string[]): Promise<Map<string, DocumentVersion>> {
  if (!nodeIds.length) return new Map();
  const rows = await db
    .selectDistinctOn([outbox.nodeId], { nodeId: outbox.nodeId, revision: outbox.revision, overridesVersion: outbox.overridesVersion })
    .from(outbox)
    .where(and(open, inJson(outbox.nodeId, nodeIds)))
    .orderBy(asc(outbox.nodeId), sql`${outbox.revision} desc`, sql`${outbox.overridesVersion} desc`);
  return new Map(rows.map((r) => [r.nodeId, { revision: r.revision, overridesVersion: r.overridesVersion }]));
}

/** For every node: its newest published row, unless a newer row is still open (that one will go out). */
export async function latestPublishedRows(db: Db, siteId?: string): Promise<OutboxRow[]> {
  const rows = await db
    .selectDistinctOn([outbox.nodeId])
    .from(outbox)
    .where(siteId === undefined ? eq(outbox.status, 'published') : and(eq(outbox.status, 'published'), eq(outbox.siteId, siteId)))
    .orderBy(asc(outbox.nodeId), sql`${outbox.revision} desc`, sql`${outbox.overridesVersion} desc`, sql`${outbox.id} desc`);
  const waiting = await db.selectDistinct({ n: outbox.nodeId }).from(outbox).where(open);
  const skip = new Set(waiting.map((w) => w.n));
  return rows.filter((r) => !skip.has(r.nodeId));
}

export async function markPublished(db: Db, ids: number[], at: Date): Promise<void> {
  if (!ids.length) return;
  await db
    .update(outbox)
    .set({ status: 'published', publishedAt: at, attempts: sql`${outbox.attempts} + 1` })
    .where(and(inJson(outbox.id, ids), open));
}

/** Closes open rows that will never be sent; one statement per reason. */
export async function markSkipped(db: Db, ids: number[], reason: string): Promise<void> {
  if (!ids.length) return;
  await db
    .update(outbox)
    .set({ status: 'skipped', skippedReason: reason })
    .where(and(inJson(outbox.id, ids), open));
}

/** Marks a row failed, due again `retryInMs` from now on the database's clock (`dueNow`). */
export async function markFailed(db: Db, id: number, attempts: number, retryInMs: number, error: string): Promise<void> {
  await db
    .update(outbox)
    .set({
      status: 'failed',
      attempts,
      nextAttemptAt: dbNowPlus(retryInMs),
      lastError: error.slice(0, 500),
    })
    .where(and(eq(outbox.id, id), open));
}

/**
 * Deletes up to `limit` rows that no reader needs again (of `siteIds` only, when given): published
 * or skipped rows of a revision older than the newest one published to their node. Kept: each
 * node's rows of its newest published revision (what a key rotation re-signs, a rollout withholds
 * back to, and the status dates), every open or held row, and every row of a later revision. Without
 * this the table kept every document ever sent, a 1,000-node site's claims (1.3 MB) at every apply.
 * Answers how many rows went.
 */
export async function pruneSuperseded(db: Db, limit: number, siteIds?: readonly string[]): Promise<number> {
  if (siteIds && !siteIds.length) return 0;
  // Unqualified: inside `outbox o` the table's own name no longer resolves.
  const ofSites = siteIds ? sql`AND ${inJsonList(sql`site_id`, siteIds)}` : sql``;
  // Each node's newest published revision found once, by one aggregate: a subquery per row
  // (max(revision) of the row's node) took 2 s for 5,000 rows of a 20-revision history.
  const answer = await db.execute(sql`
    DELETE FROM outbox WHERE id IN (
      SELECT o.id FROM outbox o
      JOIN (SELECT node_id, max(revision) AS newest FROM outbox WHERE status = 'published' ${ofSites} GROUP BY node_id) n
        ON n.node_id = o.node_id AND o.revision < n.newest
      WHERE o.status IN ('published', 'skipped') ${ofSites}
      LIMIT ${limit}::integer)
    RETURNING id`);
  return rowsOf(answer).length;
}

/** Sites with an open row (the Workers entry wakes their publishers after an apply and on its cron). */
export async function sitesWithOpenRows(db: Db): Promise<string[]> {
  const rows = await db.selectDistinct({ siteId: outbox.siteId }).from(outbox).where(open);
  return rows.map((r) => r.siteId);
}

/**
 * How long until the site's earliest open row is due (its back-off), in ms from now on the
 * database's clock (0 when one is due already), or null when it has none: the Workers publisher
 * sets its alarm that far from its own now, so a clock apart from the database's moves nothing.
 */
export async function nextDueInMs(db: Db, siteId: string): Promise<number | null> {
  const [row] = await db
    .select({ ms: sql<string | number | null>`extract(epoch from min(${outbox.nextAttemptAt}) - ${dbNow}) * 1000` })
    .from(outbox)
    .where(and(open, eq(outbox.siteId, siteId)));
  // numeric, which comes back as text; NULL without an open row (greatest() in SQL would make it 0).
  return row?.ms == null ? null : Math.max(0, Math.ceil(Number(row.ms)));
}
