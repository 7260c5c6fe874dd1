import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { events, rollouts, siteRevisions, sites } from '../db/schema.ts';
import type { Site } from '#shared/site/site.ts';
import { applySite } from '../sites/apply.ts';
import { audit } from '../sites/audit.ts';
import { stepRollout, type Rollout, type RolloutAction, type RolloutEvent } from './plan.ts';
import { lockRollout, releaseHeld, saveRollout, withhold, type RolloutRow } from './store.ts';

export interface AdvanceDeps {
  db: Db;
  /** Asks the publisher to drain soon (released or rolled-back documents are waiting). */
  kick?: () => void;
  log?: (line: string) => void;
}

type Rollback = Extract<RolloutAction, { type: 'rollback' }>;

/**
 * Feeds one event (a tick with the latest reports, or an operator's command) into one rollout and
 * carries out what the planner decided (cloud/src/rollout/plan.ts): in one transaction the new
 * state, the released documents, the dropped ones and the events; then, for a rollback, a new
 * revision repeating the previous spec, published at once to exactly the nodes that had received
 * the rolled-back one (a new revision number, so agents accept it as newer: docs/architecture.md,
 * "Staged rollout"). Answers the rollout row after the step, or null when there is none.
 */
export async function advanceRollout(deps: AdvanceDeps, id: number, ev: RolloutEvent, now: Date): Promise<RolloutRow | null> {
  const { db } = deps;
  const log = deps.log ?? (() => {});
  const done = await db.transaction(async (tx) => {
    const row = await lockRollout(tx, id);
    if (!row) return null;
    const [site] = await tx.select({ name: sites.name, orgId: sites.orgId }).from(sites).where(eq(sites.id, row.siteId));
    const before = row.plan as Rollout;
    const { rollout, actions } = stepRollout(before, ev, now.getTime());
    if (rollout === before) return { row, site, actions, rollback: undefined };
    await saveRollout(tx, id, rollout, now);
    let rollback: Rollback | undefined;
    for (const a of actions) {
      if (a.type === 'release') await releaseHeld(tx, site.name, row.siteId, row.revision, a.nodes, now);
      else if (a.type === 'rollback') {
        rollback = a;
        await withhold(tx, site.name, row.siteId, row.revision, a.withheld, `rollout of revision ${row.revision} ended: ${a.reason}`);
      } else await tx.insert(events).values({ siteId: row.siteId, nodeId: null, type: a.event, data: { site: site.name, ...a.data }, at: now });
    }
    if (ev.type !== 'tick')
      await audit(tx, {
        orgId: site.orgId,
        actor: ev.by,
        action: `rollout.${ev.type}`,
        target: site.name,
        detail: { revision: row.revision, state: rollout.state },
      });
    return { row: { ...row, state: rollout.state, plan: rollout, updatedAt: now }, site, actions, rollback };
  });
  if (!done) return null;
  for (const a of done.actions) if (a.type === 'event') log(`rollout ${done.site.name}: ${a.summary}`);
  let row = done.row;
  if (done.rollback) row = await writeRollback(deps, row, done.site, done.rollback, now);
  if (done.actions.some((a) => a.type === 'release') || done.rollback) deps.kick?.();
  return row;
}

/** The rollback revision: the previous spec again, published at once (force: it restores what ran before, however much that removes). */
async function writeRollback(deps: AdvanceDeps, row: RolloutRow, site: { name: string; orgId: string }, a: Rollback, now: Date): Promise<RolloutRow> {
  const { db } = deps;
  const [prev] = await db
    .select({ spec: siteRevisions.spec })
    .from(siteRevisions)
    .where(and(eq(siteRevisions.siteId, row.siteId), eq(siteRevisions.revision, a.toRevision)));
  try {
    const result = await applySite(db, {
      orgId: site.orgId,
      site: prev.spec as Site,
      author: 'rollout',
      message: `automatic rollback of revision ${row.revision}: ${a.reason}`.slice(0, 1000),
      force: true,
      rolledBackFrom: a.toRevision,
      immediate: true,
      mayChangeScripts: true,
      now,
    });
    await db.update(rollouts).set({ rollbackRevision: result.revision }).where(eq(rollouts.id, row.id));
    return { ...row, rollbackRevision: result.revision };
  } catch (err) {
    // The held documents are dropped already; what went out stays until someone applies again.
    const plan = { ...(row.plan as Rollout), reason: `${a.reason}; the rollback revision could not be written: ${(err as Error).message}` };
    await db.update(rollouts).set({ plan }).where(eq(rollouts.id, row.id));
    deps.log?.(`rollout ${site.name}: rollback of revision ${row.revision} failed: ${(err as Error).message}`);
    return { ...row, plan };
  }
}
