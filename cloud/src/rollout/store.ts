import { and, desc, eq, getTableColumns, inArray, lt, sql } from 'drizzle-orm';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import { nodeIdOf } from '#shared/wire/topics.ts';
import type { DesiredClaims } from '#shared/wire/desired.ts';
import { sha256Hex } from '../auth/tokens.ts';
import type { Db } from '../db/client.ts';
import { dbNow } from '../db/clock.ts';
import { idTable } from '../db/in-json.ts';
import { nodes, outbox, rollouts, sites } from '../db/schema.ts';
import { ACTIVE_STATES, DRIVER_PARTS, planToKeep, type Rollout } from './plan.ts';
import { planSummary, type PlanSummary, type RolloutSummaryRow } from './summary.ts';

/** A transaction (or the db itself): everything here runs inside the caller's. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
type Q = Db | Tx;

export type RolloutRow = typeof rollouts.$inferSelect;

/** The site's rollout that has not ended (at most one: an apply is refused while one runs). */
export async function activeRollout(db: Q, siteId: string, lock = false): Promise<RolloutRow | null> {
  const q = db
    .select()
    .from(rollouts)
    .where(and(eq(rollouts.siteId, siteId), inArray(rollouts.state, [...ACTIVE_STATES])))
    .orderBy(desc(rollouts.revision))
    .limit(1);
  const [row] = lock ? await q.for('update') : await q;
  return row ?? null;
}

/** What a tick needs of a rollout before it locks the row. */
export interface ActiveRollout {
  id: number;
  siteId: string;
  revision: number;
  createdAt: Date;
  /** The names of the nodes it changes (the plan's `nodes`): whose reports the tick reads. */
  nodeNames: string[];
}

/**
 * Every rollout that has not ended, across sites (the driver's work list): each plan's node names
 * without the rest of the plan, which the tick reads whole once, under its lock. At 10,000 nodes
 * the second parse of the whole plan was 11 ms of a tick's 80-120.
 */
export async function activeRollouts(db: Db): Promise<ActiveRollout[]> {
  return db
    .select({
      id: rollouts.id,
      siteId: rollouts.siteId,
      revision: rollouts.revision,
      createdAt: rollouts.createdAt,
      nodeNames: sql<string[]>`jsonb_path_query_array(${rollouts.plan}, '$.nodes[*].name')`,
    })
    .from(rollouts)
    .where(inArray(rollouts.state, [...ACTIVE_STATES]));
}

/**
 * A rollout's row as people read it: its plan without what only the driver reads (the nodes it
 * changes, the nodes it watches, the health baseline). At 10,000 nodes those are most of the
 * plan's bytes, parsed again at every read of `apply --wait`'s poll and of the rollout history.
 * An ended rollout is stored without them (`planToKeep`); the one running still has them.
 */
const withoutDriverParts = sql`${rollouts.plan}${sql.raw(DRIVER_PARTS.map((k) => ` - '${k}'`).join(''))}`;
const viewColumns = { ...getTableColumns(rollouts), plan: sql<unknown>`${withoutDriverParts}` };

/** The site's rollouts, newest first: the current one and its history (plans as people read them). */
export async function rolloutHistory(db: Db, siteId: string, limit: number): Promise<RolloutRow[]> {
  return db.select(viewColumns).from(rollouts).where(eq(rollouts.siteId, siteId)).orderBy(desc(rollouts.revision)).limit(limit);
}

const summaryColumns = {
  revision: rollouts.revision,
  state: rollouts.state,
  author: rollouts.author,
  rollbackRevision: rollouts.rollbackRevision,
  createdAt: rollouts.createdAt,
  endedAt: rollouts.endedAt,
  summary: sql<PlanSummary>`${rollouts.summary}`.as('summary'),
};

/**
 * The site's rollouts newest first, below revision `before` when given, as summaries (their
 * `summary` column, written with the plan): a 10,000-node rollout's stages and released nodes are
 * about half a megabyte of names, which a history listing twenty of them read, parsed and sent for
 * clients that show a line of each, and which counting in each read still detoasted.
 */
export async function rolloutSummaries(db: Db, siteId: string, page: { before?: number; limit: number }): Promise<RolloutSummaryRow[]> {
  return db
    .select(summaryColumns)
    .from(rollouts)
    .where(and(eq(rollouts.siteId, siteId), page.before === undefined ? undefined : lt(rollouts.revision, page.before)))
    .orderBy(desc(rollouts.revision))
    .limit(page.limit);
}

/** The newest `limit` rollouts of each site of `siteIds` as summaries, in one statement (the dashboard's). */
export async function latestRolloutSummaries(db: Db, siteIds: string[], limit: number): Promise<Map<string, RolloutSummaryRow[]>> {
  const out = new Map<string, RolloutSummaryRow[]>(siteIds.map((id) => [id, []]));
  if (!siteIds.length) return out;
  const latest = db
    .select({ siteId: rollouts.siteId, ...summaryColumns })
    .from(rollouts)
    .where(eq(rollouts.siteId, sql`s.id`))
    .orderBy(desc(rollouts.revision))
    .limit(limit)
    .as('r');
  const rows = await db
    .select({
      siteId: latest.siteId,
      revision: latest.revision,
      state: latest.state,
      author: latest.author,
      rollbackRevision: latest.rollbackRevision,
      createdAt: latest.createdAt,
      endedAt: latest.endedAt,
      summary: latest.summary,
    })
    .from(idTable(siteIds))
    .crossJoinLateral(latest)
    .orderBy(desc(latest.revision));
  for (const { siteId, ...r } of rows) out.get(siteId)!.push(r);
  return out;
}

/** The site's rollout of `revision`, if that revision had one (one at most: `rollouts_site_revision`), its plan as people read it. */
export async function rolloutOf(db: Db, siteId: string, revision: number): Promise<RolloutRow | null> {
  const [row] = await db
    .select(viewColumns)
    .from(rollouts)
    .where(and(eq(rollouts.siteId, siteId), eq(rollouts.revision, revision)));
  return row ?? null;
}

export async function lockRollout(tx: Tx, id: number): Promise<RolloutRow | null> {
  const [row] = await tx.select().from(rollouts).where(eq(rollouts.id, id)).for('update');
  return row ?? null;
}

export async function saveRollout(tx: Q, id: number, plan: Rollout, now: Date, rollbackRevision: number | null): Promise<void> {
  const ended = ACTIVE_STATES.includes(plan.state) ? null : now;
  await tx
    .update(rollouts)
    .set({ state: plan.state, plan: planToKeep(plan), summary: planSummary(plan), updatedAt: now, endedAt: ended, rollbackRevision })
    .where(eq(rollouts.id, id));
}

/** Makes the held documents of `names` (for `revision`) publishable now: due on the database's clock, as the publisher reads it (../db/clock.ts). */
export async function releaseHeld(tx: Q, site: string, siteId: string, revision: number, names: string[]): Promise<void> {
  if (!names.length) return;
  const ids = names.map((n) => nodeIdOf(site, n));
  await tx
    .update(outbox)
    .set({ status: 'pending', nextAttemptAt: dbNow })
    .where(and(eq(outbox.siteId, siteId), eq(outbox.revision, revision), eq(outbox.status, 'held'), inArray(outbox.nodeId, ids)));
}

/**
 * Drops the held documents of `names` (they will never be sent) and points those nodes back at
 * the document they really run: the newest one published to them, its revision and config hash.
 * The rollback revision written next then changes only the nodes that did receive the revision.
 */
export async function withhold(tx: Tx, site: string, siteId: string, revision: number, names: string[], reason: string): Promise<void> {
  if (!names.length) return;
  const ids = names.map((n) => nodeIdOf(site, n));
  await tx
    .update(outbox)
    .set({ status: 'skipped', skippedReason: reason.slice(0, 500) })
    .where(and(eq(outbox.siteId, siteId), eq(outbox.revision, revision), eq(outbox.status, 'held'), inArray(outbox.nodeId, ids)));
  const last = await tx
    .selectDistinctOn([outbox.nodeId], { nodeId: outbox.nodeId, revision: outbox.revision, claims: outbox.claims })
    .from(outbox)
    .where(and(inArray(outbox.nodeId, ids), eq(outbox.status, 'published')))
    .orderBy(outbox.nodeId, sql`${outbox.revision} desc`, sql`${outbox.id} desc`);
  const byId = new Map(last.map((r) => [r.nodeId, r]));
  // The nodes' config hashes change without a new revision: writing the site row gives it a new
  // version, so no replica's remembered state of the site (../sites/site-states.ts) is used again.
  // (A write of the row that changes none of its values.)
  await tx
    .update(sites)
    .set({ currentRevision: sql`${sites.currentRevision}` })
    .where(eq(sites.id, siteId));
  for (const id of ids) {
    const row = byId.get(id);
    // A node new in this revision never received anything: nothing runs there to point at.
    const configHash = row ? await sha256Hex(canonicalJson((row.claims as DesiredClaims).config)) : '';
    await tx
      .update(nodes)
      .set({ desiredRevision: row?.revision ?? 0, configHash })
      .where(eq(nodes.id, id));
  }
}
