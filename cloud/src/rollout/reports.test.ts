import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../db/test-db.test-support.ts';
import { events, nodes, nodeStatus, orgs, sites } from '../db/schema.ts';
import type { NodeStatus } from '#shared/wire/status.ts';
import { newRollout, stepRollout, type Rollout } from './plan.ts';
import { genericPlan } from '../db/plan.test-support.ts';
import { failuresSince, loadReports, ReportCache } from './reports.ts';

let d: TestDatabase;
beforeAll(async () => {
  d = await openTestDatabase();
});
afterAll(async () => {
  await d?.close();
});

const NOW = new Date('2026-12-01T12:00:00Z');
const director = (name: string, state: 'MASTER' | 'BACKUP', down: string[]): Partial<NodeStatus> => ({
  vrrp: [{ instance: 'vi1', vrid: 51, state, priority: 100, effectivePriority: 100 }],
  services: [
    {
      name: 'web',
      quorum: true,
      realServers: ['10.0.0.11', '10.0.0.12', '10.0.0.13'].map((address) => ({ address, port: 80, healthy: !down.includes(address), weight: 1 })),
    },
  ],
});

describe('loadReports', () => {
  beforeAll(async () => {
    await d.db.insert(orgs).values({ id: 'o', name: 'o' });
    await d.db.insert(sites).values({ id: 's', orgId: 'o', name: 's', currentRevision: 2 });
    const all = [
      { name: 'd1', role: 'director' as const, status: director('d1', 'MASTER', ['10.0.0.13']) },
      { name: 'd2', role: 'director' as const, status: director('d2', 'BACKUP', []) },
      { name: 'r1', role: 'realserver' as const, status: { realServer: { ok: true } } },
      { name: 'r2', role: 'realserver' as const, status: { realServer: { ok: true } } },
      { name: 'r3', role: 'realserver' as const, status: { realServer: { ok: true } } },
    ];
    await d.db.insert(nodes).values(all.map((n) => ({ id: `s.${n.name}`, siteId: 's', name: n.name, role: n.role, address: '10.0.0.1', desiredRevision: 2 })));
    await d.db.insert(nodeStatus).values(
      all.map((n) => ({
        nodeId: `s.${n.name}`,
        online: true,
        appliedRevision: 1,
        status: { nodeId: `s.${n.name}`, online: true, appliedRevision: 1, ...n.status },
        updatedAt: new Date(NOW.getTime() - 5000),
      })),
    );
    await d.db.insert(events).values({ siteId: 's', nodeId: 's.r2', type: 'apply.failed', data: { revision: 2, error: 'boom' }, at: NOW, receivedAt: NOW });
  });

  it("with the rollout's nodes, reads the directors' reports and those nodes' only, and the planner decides the same", async () => {
    const since = new Date(NOW.getTime() - 60_000);
    const every = await loadReports(d.db, 's', 2, since, NOW.getTime());
    expect(Object.keys(every).sort()).toEqual(['d1', 'd2', 'r1', 'r2', 'r3']);
    const some = await loadReports(d.db, 's', 2, since, NOW.getTime(), ['r2']);
    expect(Object.keys(some).sort()).toEqual(['d1', 'd2', 'r2']);
    for (const n of ['d1', 'd2', 'r2']) expect(some[n], n).toEqual(every[n]);
    expect(some.r2.failed).toEqual({ revision: 2, error: 'boom' });
    expect(some.d1.down).toEqual(['web/10.0.0.13:80']);

    // The planner's first step and a later tick come out the same from either set.
    const plan: Rollout = newRollout({ revision: 2, previousRevision: 1, bakeMs: 1000, stageTimeoutMs: 60_000, nodes: [{ name: 'r2', role: 'realserver' }] });
    const fromEvery = stepRollout(plan, { type: 'tick', reports: every }, NOW.getTime());
    const fromSome = stepRollout(plan, { type: 'tick', reports: some }, NOW.getTime());
    expect(fromSome).toEqual(fromEvery);
    expect(stepRollout(fromSome.rollout, { type: 'tick', reports: some }, NOW.getTime() + 10)).toEqual(
      stepRollout(fromEvery.rollout, { type: 'tick', reports: every }, NOW.getTime() + 10),
    );
  });

  it('with a cache, answers as without one while reports move, and reads again only those whose stored time or presence moved', async () => {
    const since = new Date(NOW.getTime() - 60_000);
    const cache = new ReportCache();
    const both = async (nodesOf?: string[]) => {
      const cached = await loadReports(d.db, 's', 2, since, NOW.getTime(), nodesOf, cache);
      expect(cached).toEqual(await loadReports(d.db, 's', 2, since, NOW.getTime(), nodesOf));
      return cached;
    };
    expect((await both(['r1', 'r3'])).r1.appliedRevision).toBe(1);
    // r1 applied revision 2 (a new report, stored later); d2 went offline (its will: same time, presence moved).
    await d.db
      .update(nodeStatus)
      .set({ appliedRevision: 2, status: { nodeId: 's.r1', online: true, appliedRevision: 2, realServer: { ok: true } }, updatedAt: NOW })
      .where(eq(nodeStatus.nodeId, 's.r1'));
    await d.db.update(nodeStatus).set({ online: false }).where(eq(nodeStatus.nodeId, 's.d2'));
    const moved = await both(['r1', 'r3']);
    expect(moved.r1).toMatchObject({ appliedRevision: 2, fresh: true });
    expect(moved.d2.fresh).toBe(false);
    // A row rewritten in place with its stored time and presence unchanged is not read again: the
    // cache's copy answers (ingest always moves the time; this shows the cache is what answered).
    await d.db
      .update(nodeStatus)
      .set({ status: { nodeId: 's.r3', online: true, appliedRevision: 7, realServer: { ok: true } } })
      .where(eq(nodeStatus.nodeId, 's.r3'));
    expect((await loadReports(d.db, 's', 2, since, NOW.getTime(), ['r1', 'r3'], cache)).r3.appliedRevision).toBe(1);
    // The rollout's view narrowed to r1: r3 leaves the cache, so a later view that has it again reads it.
    await both(['r1']);
    expect((await loadReports(d.db, 's', 2, since, NOW.getTime(), ['r1', 'r3'], cache)).r3.appliedRevision).toBe(7);
  });
});

describe('failuresSince', () => {
  it('is answered by the partial index of apply.failed events, in a generic plan too (no scan of every event)', async () => {
    expect(await genericPlan(d.db, failuresSince(d.db, 's', NOW))).toMatch(/events_apply_failed/);
  });
});
