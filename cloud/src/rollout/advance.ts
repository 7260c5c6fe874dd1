import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { events, siteRevisions, sites } from '../db/schema.ts';
import type { Site } from '#shared/site/site.ts';
import { applySiteIn } from '../sites/apply.ts';
import { audit } from '../sites/audit.ts';
import { stepRollout, type Rollout, type RolloutAction, type RolloutEvent } from './plan.ts';
import { lockRollout, releaseHeld, saveRollout, withhold, type RolloutRow, type Tx } from './store.ts';

export interface AdvanceDeps {
  db: Db;
  /** Asks the publisher to drain soon (released or rolled-back documents are waiting). */
  kick?: () => void;
  log?: (line: string) => void;
}

type Rollback = Extract<RolloutAction, { type: 'rollback' }>;

/**
 * Feeds one event (a tick with the latest reports, or an operator's command) into one rollout and
 * carries out what the planner decided (cloud/src/rollout/plan.ts), all in one transaction: the
 * new state, the released documents, the dropped ones, the events and, for a rollback, a new
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
    const step = stepRollout(before, ev, now.getTime());
    if (step.rollout === before) return { row, site, actions: step.actions };
    let plan = step.rollout;
    let rollbackRevision = row.rollbackRevision;
    for (const a of step.actions) {
      if (a.type === 'release') await releaseHeld(tx, site.name, row.siteId, row.revision, a.nodes);
      else if (a.type === 'rollback') {
        await withhold(tx, site.name, row.siteId, row.revision, a.withheld, `rollout of revision ${row.revision} ended: ${a.reason}`);
        const written = await writeRollback(tx, row, site, a, now);
        if ('revision' in written) rollbackRevision = written.revision;
        else {
          plan = { ...plan, reason: `${a.reason}; the rollback revision could not be written: ${written.error}` };
          log(`rollout ${site.name}: rollback of revision ${row.revision} failed: ${written.error}`);
        }
      } else await tx.insert(events).values({ siteId: row.siteId, nodeId: null, type: a.event, data: { site: site.name, ...a.data }, at: now });
    }
    await saveRollout(tx, id, plan, now, rollbackRevision);
    if (ev.type !== 'tick')
      await audit(tx, {
        orgId: site.orgId,
        actor: ev.by,
        action: `rollout.${ev.type}`,
        target: site.name,
        site: site.name,
        detail: { revision: row.revision, state: plan.state },
      });
    return { row: { ...row, state: plan.state, plan, rollbackRevision, updatedAt: now }, site, actions: step.actions };
  });
  if (!done) return null;
  for (const a of done.actions) if (a.type === 'event') log(`rollout ${done.site.name}: ${a.summary}`);
  if (done.actions.some((a) => a.type === 'release' || a.type === 'rollback')) deps.kick?.();
  return done.row;
}

/**
 * The rollback revision, in the rollout's own transaction (no apply can slip in between): the
 * previous spec again, published at once (force: it restores what ran before, however much that
 * removes). In a savepoint, so a refusal still lets the rollout end, with the reason recorded.
 */
async function writeRollback(
  tx: Tx,
  row: RolloutRow,
  site: { name: string; orgId: string },
  a: Rollback,
  now: Date,
): Promise<{ revision: number } | { error: string }> {
  const [prev] = await tx
    .select({ spec: siteRevisions.spec })
    .from(siteRevisions)
    .where(and(eq(siteRevisions.siteId, row.siteId), eq(siteRevisions.revision, a.toRevision)));
  try {
    const result = await tx.transaction((sp) =>
      applySiteIn(sp, {
        orgId: site.orgId,
        site: prev.spec as Site,
        author: 'rollout',
        message: `automatic rollback of revision ${row.revision}: ${a.reason}`.slice(0, 1000),
        force: true,
        rolledBackFrom: a.toRevision,
        immediate: true,
        mayChangeScripts: true,
        now,
      }),
    );
    return { revision: result.revision };
  } catch (err) {
    return { error: (err as Error).message };
  }
}
