import { readFileSync } from 'node:fs';
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { NodeStatus } from '#shared/wire/status.ts';
import { events, nodes, nodeStatus, outbox, rollouts, sites } from '../../db/schema.ts';
import { advanceRollout } from '../../rollout/advance.ts';
import { loadReports } from '../../rollout/reports.ts';
import { activeRollout } from '../../rollout/store.ts';
import type { Rollout } from '../../rollout/plan.ts';
import { planSummary } from '../../rollout/summary.ts';
import { SEEDS_YAML } from '../../../test/fixtures.test-support.ts';
import { useTestApp } from '../test-app.test-support.ts';

const t = useTestApp();
const SITE = 'bj-dc1';

/** The seeds site with a 5 s bake; `weight` changes the directors' configs (not the real servers'). */
function spec(weight: number, extra: (s: any) => void = () => {}): string {
  const s = parse(SEEDS_YAML);
  s.spec.rollout = { bake: '5s' };
  s.spec.services[0].realServers[0].weight = weight;
  extra(s);
  return stringify(s);
}
const put = (yaml: string) => t.req(`/v1/sites/${SITE}/spec`, { method: 'PUT', yaml });
const rows = () => t.db.db.select().from(outbox).orderBy(asc(outbox.id));
const rowsOf = async (revision: number) =>
  Object.fromEntries((await rows()).filter((r) => r.revision === revision).map((r) => [r.nodeId.split('.')[1], r.status]));

/** What each node reports: dr1 MASTER, dr2 BACKUP, everyone on `applied[node]` (default 1). */
async function report(applied: Record<string, number> = {}, extra: Record<string, Partial<NodeStatus>> = {}, at = new Date()) {
  const vrrp = (state: string) => [{ instance: 'VI_1', vrid: 50, state: state as 'MASTER', priority: 100, effectivePriority: 100 }];
  for (const node of ['dr1', 'dr2', 'rs1', 'rs2']) {
    const nodeId = `${SITE}.${node}`;
    const status: NodeStatus = {
      nodeId,
      online: true,
      appliedRevision: applied[node] ?? 1,
      vrrp: node === 'dr1' ? vrrp('MASTER') : node === 'dr2' ? vrrp('BACKUP') : [],
      ...extra[node],
    };
    await t.db.db
      .insert(nodeStatus)
      .values({ nodeId, online: true, appliedRevision: status.appliedRevision ?? null, status, updatedAt: at })
      .onConflictDoUpdate({ target: nodeStatus.nodeId, set: { status, appliedRevision: status.appliedRevision ?? null, updatedAt: at } });
  }
}

async function siteId(): Promise<string> {
  const [s] = await t.db.db.select({ id: sites.id }).from(sites).where(eq(sites.name, SITE));
  return s.id;
}

/** One driver tick at `now`, with the reports as the database holds them. */
async function tick(now: Date) {
  const id = await siteId();
  const row = await activeRollout(t.db.db, id);
  if (!row) return null;
  const reports = await loadReports(t.db.db, id, row.revision, row.createdAt, now.getTime());
  return advanceRollout({ db: t.db.db, kick: () => void t.kicks++ }, row.id, { type: 'tick', reports }, now);
}

/** Revision 1 published everywhere and reported applied, then revision 2 applied under the rollout policy. */
async function revisionTwo() {
  expect((await put(spec(2))).status).toBe(200);
  await t.db.db.update(outbox).set({ status: 'published', publishedAt: new Date() });
  await report();
  const res = await put(spec(7));
  expect(res.status).toBe(200);
  return res.json();
}

describe('staged rollout through the API', () => {
  it('holds the documents of revision 2, releases the BACKUP first and the MASTER after the bake', async () => {
    const body = await revisionTwo();
    expect(body).toMatchObject({ revision: 2, staged: true, publishedNodes: ['dr1', 'dr2'] });
    // The first stage leaves with the apply: the BACKUP's document is pending, the MASTER's held.
    expect(await rowsOf(2)).toEqual({ dr1: 'held', dr2: 'pending' });
    const current = await (await t.req(`/v1/sites/${SITE}/rollout`)).json();
    expect(current.current).toMatchObject({
      revision: 2,
      previousRevision: 1,
      state: 'running',
      bakeMs: 5000,
      stages: [
        { name: 'backups', nodes: ['dr2'] },
        { name: 'masters', nodes: ['dr1'] },
      ],
    });

    const t0 = new Date();
    await tick(t0);
    expect(await rowsOf(2)).toEqual({ dr1: 'held', dr2: 'pending' });
    await report({ dr2: 2 }, {}, t0);
    await tick(new Date(t0.getTime() + 1000));
    await tick(new Date(t0.getTime() + 5999));
    expect(await rowsOf(2)).toEqual({ dr1: 'held', dr2: 'pending' });
    await tick(new Date(t0.getTime() + 6000));
    expect(await rowsOf(2)).toEqual({ dr1: 'pending', dr2: 'pending' });
    await report({ dr1: 2, dr2: 2 }, {}, new Date(t0.getTime() + 7000));
    await tick(new Date(t0.getTime() + 7000));
    const done = await tick(new Date(t0.getTime() + 12_000));
    expect(done?.state).toBe('completed');
    const types = (await t.db.db.select().from(events).orderBy(asc(events.id))).map((e) => e.type);
    expect(types).toEqual(['rollout.started', 'rollout.stage', 'rollout.stage', 'rollout.completed']);
    const view = await (await t.req(`/v1/sites/${SITE}/rollout`)).json();
    expect(view.current).toBeNull();
    expect(view.history[0]).toMatchObject({ revision: 2, state: 'completed', released: ['dr2', 'dr1'] });
    // A revision's progress carries its own rollout; a revision published at once has none.
    const two = await (await t.req(`/v1/sites/${SITE}/revisions/2/progress`, { as: 'viewer' })).json();
    expect(two.rollout).toEqual(view.history[0]);
    expect(two.nodes.find((n: { name: string }) => n.name === 'dr1')).toMatchObject({ desiredRevision: 2, appliedRevision: 2, inSync: true });
    expect((await (await t.req(`/v1/sites/${SITE}/revisions/1/progress`, { as: 'viewer' })).json()).rollout).toBeNull();
  });

  it('refuses another apply while a rollout runs (409 rollout_in_progress) and writes nothing', async () => {
    await revisionTwo();
    const res = await put(spec(9));
    expect(res.status).toBe(409);
    expect((await res.json()).error.code).toBe('rollout_in_progress');
    expect((await rows()).filter((r) => r.revision === 3)).toEqual([]);
  });

  it('a BACKUP that reports apply.failed rolls back: revision 3 repeats revision 1 on dr2 only, dr1 never gets revision 2', async () => {
    await revisionTwo();
    const t0 = new Date();
    await tick(t0);
    const id = await siteId();
    await t.db.db
      .insert(events)
      .values({ siteId: id, nodeId: `${SITE}.dr2`, type: 'apply.failed', data: { revision: 2, error: 'ipvs: no such port' }, at: t0 });
    const after = await tick(new Date(t0.getTime() + 1000));
    expect(after).toMatchObject({ state: 'rolled_back', rollbackRevision: 3 });
    expect((after!.plan as { reason: string }).reason).toBe('dr2 failed to apply revision 2: ipvs: no such port');
    expect(await rowsOf(2)).toEqual({ dr1: 'skipped', dr2: 'pending' });
    expect(await rowsOf(3)).toEqual({ dr2: 'pending' });
    const [r3] = (await rows()).filter((r) => r.revision === 3);
    const weight = (r3.claims as { config: { services: { realServers: { weight: number }[] }[] } }).config.services[0].realServers[0].weight;
    expect(weight).toBe(2);
    const nodeRows = await t.db.db.select().from(nodes).where(eq(nodes.siteId, id)).orderBy(asc(nodes.name));
    expect(nodeRows.map((n) => [n.name, n.desiredRevision])).toEqual([
      ['dr1', 1],
      ['dr2', 3],
      ['rs1', 1],
      ['rs2', 1],
    ]);
    const rev = await (await t.req(`/v1/sites/${SITE}/revisions/3`)).json();
    expect(rev).toMatchObject({ revision: 3, author: 'rollout', rolledBackFrom: 1 });
    const rolled = await t.db.db
      .select()
      .from(events)
      .where(and(eq(events.siteId, id), eq(events.type, 'rollout.rolled_back')));
    expect((rolled[0].data as { summary: string }).summary).toBe(
      'rollout of revision 2 rolled back (dr2 failed to apply revision 2: ipvs: no such port); revision 1 restored on dr2',
    );
    // The site takes applies again, and one identical to revision 1's spec changes nothing.
    expect((await put(spec(2))).status).toBe(200);
  });

  it('a real server newly down as the BACKUP sees it during the bake rolls back', async () => {
    await revisionTwo();
    const t0 = new Date();
    await tick(t0);
    const down = { services: [{ name: 'web', quorum: true, realServers: [{ address: '192.168.1.132', port: 80, healthy: false, weight: 7, checked: true }] }] };
    await report({ dr2: 2 }, { dr2: down }, t0);
    const after = await tick(new Date(t0.getTime() + 2000));
    expect(after).toMatchObject({ state: 'rolled_back' });
    expect((after!.plan as { reason: string }).reason).toBe('dr2: real server web/192.168.1.132:80 is down since revision 2 was released');
  });

  it('pause holds the MASTER back past the bake, resume lets it go; abort restores the released nodes; commands need a rollout', async () => {
    await revisionTwo();
    const t0 = new Date();
    await tick(t0);
    const paused = await t.req(`/v1/sites/${SITE}/rollout/pause`, { method: 'POST', as: 'operator' });
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ state: 'paused' });
    await report({ dr2: 2 }, {}, t0);
    await tick(new Date(t0.getTime() + 1000));
    await tick(new Date(t0.getTime() + 30_000));
    expect(await rowsOf(2)).toEqual({ dr1: 'held', dr2: 'pending' });
    expect((await t.req(`/v1/sites/${SITE}/rollout/resume`, { method: 'POST', as: 'viewer' })).status).toBe(403);
    expect(await (await t.req(`/v1/sites/${SITE}/rollout/resume`, { method: 'POST' })).json()).toMatchObject({ state: 'running' });

    const aborted = await (await t.req(`/v1/sites/${SITE}/rollout/abort`, { method: 'POST' })).json();
    expect(aborted).toMatchObject({ state: 'aborted', reason: 'aborted by test-admin', rollbackRevision: 3, released: ['dr2'] });
    expect(await rowsOf(3)).toEqual({ dr2: 'pending' });
    const again = await t.req(`/v1/sites/${SITE}/rollout/abort`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect((await again.json()).error.code).toBe('rollout_not_active');
  });

  it('the first revision, a site where no node reports, and rollout.enabled: false publish at once', async () => {
    expect(await (await put(spec(2))).json()).toMatchObject({ revision: 1, staged: false });
    await t.db.db.update(outbox).set({ status: 'published' });
    // Nothing reports yet: no live traffic to stage against; the rollout is recorded as done at once.
    expect(await (await put(spec(3))).json()).toMatchObject({ revision: 2, staged: false });
    expect(await rowsOf(2)).toEqual({ dr1: 'pending', dr2: 'pending' });
    const view = await (await t.req(`/v1/sites/${SITE}/rollout`)).json();
    expect(view).toMatchObject({ current: null, history: [{ revision: 2, state: 'completed', stages: [{ name: 'all', nodes: ['dr1', 'dr2'] }] }] });
    await t.db.db.update(outbox).set({ status: 'published' });
    await report({ dr1: 2, dr2: 2, rs1: 2, rs2: 2 });
    const off = await (await put(spec(4, (s) => (s.spec.rollout = { enabled: false })))).json();
    expect(off).toMatchObject({ revision: 3, staged: false });
    expect(await rowsOf(3)).toEqual({ dr1: 'pending', dr2: 'pending' });
  });

  it("keeps an ended rollout without the driver's parts; /rollout?history=N lists N, /rollouts lists them with counts, page by page", async () => {
    const plans = async () => (await t.db.db.select().from(rollouts).orderBy(desc(rollouts.revision))).map((r) => r.plan as Record<string, unknown>);
    const driverParts = (p: Record<string, unknown>) => ['nodes', 'watched', 'baseline'].filter((k) => k in p);
    await revisionTwo();
    await tick(new Date());
    expect(driverParts((await plans())[0])).toEqual(['nodes', 'watched', 'baseline']);
    const running = await (await t.req(`/v1/sites/${SITE}/rollouts`, { as: 'viewer' })).json();
    expect(running).toMatchObject({
      site: SITE,
      next: null,
      rollouts: [
        {
          revision: 2,
          state: 'running',
          stages: [
            { name: 'backups', nodeCount: 1 },
            { name: 'masters', nodeCount: 1 },
          ],
          releasedCount: 1,
        },
      ],
    });
    expect((await t.req(`/v1/sites/${SITE}/rollout/abort`, { method: 'POST' })).status).toBe(200);
    // Revision 3 is the rollback's (no rollout of its own); revision 4 is staged and aborted too (5 restores it).
    await t.db.db.update(outbox).set({ status: 'published', publishedAt: new Date() });
    await report({ dr1: 1, dr2: 3 });
    expect(await (await put(spec(8))).json()).toMatchObject({ revision: 4, staged: true });
    await tick(new Date());
    expect((await t.req(`/v1/sites/${SITE}/rollout/abort`, { method: 'POST' })).status).toBe(200);
    expect((await plans()).map(driverParts)).toEqual([[], []]);

    const full = await (await t.req(`/v1/sites/${SITE}/rollout`)).json();
    expect(full.history.map((r: { revision: number }) => r.revision)).toEqual([4, 2]);
    // Each summary is the full view with its lists of nodes counted.
    const counted = full.history.map(({ stages, released, ...rest }: { stages: { name: string; nodes: string[] }[]; released: string[] }) => ({
      ...rest,
      stages: stages.map((st) => ({ name: st.name, nodeCount: st.nodes.length })),
      releasedCount: released.length,
    }));
    const first = await (await t.req(`/v1/sites/${SITE}/rollouts?limit=1`, { as: 'viewer' })).json();
    expect(first).toEqual({ site: SITE, rollouts: [counted[0]], next: 4 });
    const second = await (await t.req(`/v1/sites/${SITE}/rollouts?limit=1&before=4`, { as: 'viewer' })).json();
    expect(second).toEqual({ site: SITE, rollouts: [counted[1]], next: null });
    expect(await (await t.req(`/v1/sites/${SITE}/rollout?history=1`)).json()).toEqual({ site: SITE, current: null, history: [full.history[0]] });
    expect(await (await t.req(`/v1/sites/${SITE}/rollout?history=0`)).json()).toEqual({ site: SITE, current: null, history: [] });
    for (const bad of ['rollouts?limit=0', 'rollouts?limit=101', 'rollouts?before=0', 'rollouts?before=x', 'rollout?history=101', 'rollout?history=-1']) {
      const res = await t.req(`/v1/sites/${SITE}/${bad}`);
      expect(res.status, bad).toBe(400);
    }
  });

  it('the one in progress is `current` with ?history=0 too', async () => {
    await revisionTwo();
    const view = await (await t.req(`/v1/sites/${SITE}/rollout?history=0`)).json();
    expect(view).toMatchObject({ current: { revision: 2, state: 'running', released: ['dr2'] }, history: [] });
  });

  it("the migration drops the driver's parts of rollouts that ended before it, and leaves a running one whole", async () => {
    await revisionTwo();
    await tick(new Date());
    const [row] = await t.db.db.select().from(rollouts);
    const plan = row.plan as Record<string, unknown>;
    // As an older build kept an ended rollout: every part of its plan.
    await t.db.db
      .insert(rollouts)
      .values({ ...row, id: undefined, revision: 1, state: 'completed', plan: { ...plan, state: 'completed' }, endedAt: new Date() });
    const migration = readFileSync(new URL('../../../../migrations/0020_ended_rollouts_lean.sql', import.meta.url), 'utf8');
    await t.db.db.execute(sql.raw(migration));
    const after = await t.db.db.select().from(rollouts).orderBy(asc(rollouts.revision));
    const { nodes: _n, watched: _w, baseline: _b, ...lean } = plan;
    expect(after.map((r) => [r.revision, r.plan])).toEqual([
      [1, { ...lean, state: 'completed' }],
      [2, plan],
    ]);
  });

  it('migration 0021 gives the rows written before it the summary planSummary writes, from the plan as each was kept', async () => {
    await revisionTwo();
    await tick(new Date());
    const [running] = await t.db.db.select().from(rollouts);
    const plan = running.plan as Rollout;
    const { nodes: _n, watched: _w, baseline: _b, ...lean } = plan;
    await t.db.db.insert(rollouts).values({
      ...running,
      id: undefined,
      revision: 1,
      state: 'rolled_back',
      plan: { ...lean, state: 'rolled_back', released: ['dr2', 'rs1'], reason: 'dr2 failed' },
      endedAt: new Date(),
    });
    const written = (await t.db.db.select().from(rollouts).orderBy(asc(rollouts.revision))).map((r) => planSummary(r.plan as Rollout));
    expect(written[0]).toMatchObject({ releasedCount: 2, reason: 'dr2 failed' });
    expect(written[1].stages.map((s) => s.nodeCount)).toEqual(plan.stages.map((s) => s.nodes.length));
    // As an older build kept them: no summary (the column's statement aside, which the test database already ran).
    await t.db.db.update(rollouts).set({ summary: {} });
    const statements = readFileSync(new URL('../../../../migrations/0021_rollout_summaries.sql', import.meta.url), 'utf8').split('--> statement-breakpoint');
    await t.db.db.execute(sql.raw(statements.find((x) => x.includes('UPDATE'))!));
    const after = await t.db.db.select().from(rollouts).orderBy(asc(rollouts.revision));
    expect(after.map((r) => r.summary)).toEqual(written);
  });

  it('refuses a bad policy with its path', async () => {
    const res = await put(spec(2, (s) => (s.spec.rollout = { bake: '2h', stageTimeout: '1s', extra: 1 })));
    expect(res.status).toBe(422);
    const paths = (await res.json()).error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(['spec.rollout.bake', 'spec.rollout.stageTimeout', 'spec.rollout.extra']);
  });
});
