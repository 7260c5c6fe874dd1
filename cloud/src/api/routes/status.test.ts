import { eq } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { events, nodeStatus } from '../../db/schema.ts';
import { requireSite } from '../../sites/queries.ts';
import { useTestApp } from '../test-app.test-support.ts';
import { SEEDS_YAML } from '../../../test/fixtures.test-support.ts';

const t = useTestApp();
beforeEach(async () => {
  expect((await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: SEEDS_YAML })).status).toBe(200);
});

/** dr1's row: revision 1 applied, MASTER of VI_1, its one real server of web as `rs` says. */
const dr1Master = (rs: Record<string, unknown>) => ({
  nodeId: 'bj-dc1.dr1',
  online: true,
  appliedRevision: 1,
  status: {
    nodeId: 'bj-dc1.dr1',
    online: true,
    appliedRevision: 1,
    vrrp: [{ instance: 'VI_1', vrid: 50, state: 'MASTER', priority: 100, effectivePriority: 100 }],
    services: [{ name: 'web', quorum: true, realServers: [rs] }],
  },
});

describe('GET /v1/sites/{site}/status', () => {
  it('joins node_status and recent events to the live nodes', async () => {
    const at = '2026-11-22T01:00:00.000Z';
    const site = await requireSite(t.db.db, 'default', 'bj-dc1');
    await t.db.db
      .insert(nodeStatus)
      .values([
        dr1Master({ address: '192.168.1.132', port: 80, healthy: false, weight: 0, detail: 'HTTP 500' }),
        { nodeId: 'bj-dc1.dr2', online: false, appliedRevision: null, status: { nodeId: 'bj-dc1.dr2', online: false } },
      ]);
    await t.db.db.insert(events).values({
      siteId: site.id,
      nodeId: 'bj-dc1.dr1',
      type: 'vrrp.transition',
      data: { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master down' },
      at: new Date(at),
    });
    const res = await t.req('/v1/sites/bj-dc1/status', { as: 'viewer' });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ site: 'bj-dc1', revision: 1 });
    const dr1 = body.nodes.find((n: { name: string }) => n.name === 'dr1');
    expect(dr1).toMatchObject({ online: true, desiredRevision: 1, appliedRevision: 1, inSync: true, vrrp: [{ instance: 'VI_1', state: 'MASTER' }] });
    expect(dr1.services[0].realServers[0]).toMatchObject({ healthy: false, detail: 'HTTP 500' });
    const dr2 = body.nodes.find((n: { name: string }) => n.name === 'dr2');
    expect(dr2).toMatchObject({ online: false, appliedRevision: null, inSync: false, vrrp: [] });
    const rs1 = body.nodes.find((n: { name: string }) => n.name === 'rs1');
    expect(rs1).toMatchObject({ online: false, lastSeen: null });
    expect(body.events).toEqual([
      { nodeId: 'bj-dc1.dr1', type: 'vrrp.transition', at, data: { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master down' } },
    ]);
  });

  it("answers each node's latest report, read again once it moved, and a malformed one as none", async () => {
    const dr1 = (vrrpState: 'MASTER' | 'BACKUP', at: string) => ({
      nodeId: 'bj-dc1.dr1',
      online: true,
      appliedRevision: 1,
      updatedAt: new Date(at),
      status: {
        nodeId: 'bj-dc1.dr1',
        online: true,
        appliedRevision: 1,
        vrrp: [{ instance: 'VI_1', vrid: 50, state: vrrpState, priority: 100, effectivePriority: 100 }],
      },
    });
    const nodesNow = async () => {
      const res = await t.req('/v1/sites/bj-dc1/status', { as: 'viewer' });
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        nodes: { name: string; vrrp: { state: string }[]; services: unknown[]; online: boolean; lastSeen: string | null }[];
      };
      return new Map(body.nodes.map((n) => [n.name, n]));
    };
    expect((await nodesNow()).get('dr1')).toMatchObject({ online: false, lastSeen: null, vrrp: [] });
    await t.db.db.insert(nodeStatus).values(dr1('MASTER', '2026-11-22T01:00:00Z'));
    expect((await nodesNow()).get('dr1')!.vrrp.map((v) => v.state)).toEqual(['MASTER']);
    // The same node's next report: the route's answer follows it, not what an earlier read kept.
    const next = dr1('BACKUP', '2026-11-22T01:00:15Z');
    await t.db.db.update(nodeStatus).set({ status: next.status, updatedAt: next.updatedAt }).where(eq(nodeStatus.nodeId, 'bj-dc1.dr1'));
    // A report that is not one (a string where the VRRP list goes): the node is listed with its row's presence and time, and no report.
    await t.db.db.insert(nodeStatus).values({
      nodeId: 'bj-dc1.rs1',
      online: true,
      appliedRevision: 1,
      updatedAt: new Date('2026-11-22T01:00:20Z'),
      status: { nodeId: 'bj-dc1.rs1', online: true, vrrp: 'MASTER' },
    });
    const after = await nodesNow();
    expect(after.get('dr1')!.vrrp.map((v) => v.state)).toEqual(['BACKUP']);
    expect(after.get('rs1')).toMatchObject({ online: true, lastSeen: '2026-11-22T01:00:20.000Z', vrrp: [], services: [] });
  });

  it('needs a token', async () => {
    expect((await t.req('/v1/sites/bj-dc1/status', { as: null })).status).toBe(401);
  });
});

describe('GET /v1/sites/{site}/revisions/{n}/progress', () => {
  it("gives each node's revisions and errors as the status does, without the rest of its report", async () => {
    await t.db.db.insert(nodeStatus).values([
      dr1Master({ address: '192.168.1.132', port: 80, healthy: true, weight: 1 }),
      // Revision 2 received, refused: pending with its errors.
      {
        nodeId: 'bj-dc1.dr2',
        online: true,
        appliedRevision: 1,
        status: { nodeId: 'bj-dc1.dr2', online: true, appliedRevision: 1, pendingRevision: 2, errors: ['ipvs: no such scheduler "xx"'] },
      },
      // Not a report (a string where the VRRP list goes): its row's presence, and no revision, as the rollout and the status model read it.
      { nodeId: 'bj-dc1.rs1', online: true, appliedRevision: 1, status: { nodeId: 'bj-dc1.rs1', online: true, vrrp: 'MASTER', errors: ['x'] } },
    ]);
    const res = await t.req('/v1/sites/bj-dc1/revisions/1/progress', { as: 'viewer' });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ site: 'bj-dc1', revision: 1, currentRevision: 1, rollout: null });
    const byName = new Map<string, Record<string, unknown>>(body.nodes.map((n: { name: string }) => [n.name, n]));
    expect(byName.get('dr1')).toEqual({
      name: 'dr1',
      role: 'director',
      online: true,
      desiredRevision: 1,
      appliedRevision: 1,
      pendingRevision: null,
      inSync: true,
      errors: [],
    });
    expect(byName.get('dr2')).toMatchObject({ appliedRevision: 1, pendingRevision: 2, errors: ['ipvs: no such scheduler "xx"'] });
    expect(byName.get('rs1')).toMatchObject({ online: true, appliedRevision: null, pendingRevision: null, inSync: false, errors: [] });
    expect(byName.get('rs2')).toMatchObject({ online: false, appliedRevision: null, inSync: false, errors: [] });
    // Of every node with a valid report or none, the very fields the status answers.
    const status = await (await t.req('/v1/sites/bj-dc1/status', { as: 'viewer' })).json();
    const keys = Object.keys(body.nodes[0]);
    const valid = (n: { name: string }) => n.name !== 'rs1';
    expect(body.nodes.filter(valid)).toEqual(status.nodes.filter(valid).map((n: Record<string, unknown>) => Object.fromEntries(keys.map((k) => [k, n[k]]))));
    // dr2's next report (its errors gone, offline): the next answer follows it, not what the book kept.
    await t.db.db
      .update(nodeStatus)
      .set({ online: false, updatedAt: new Date(Date.now() + 1000), status: { nodeId: 'bj-dc1.dr2', online: false, appliedRevision: 1 } })
      .where(eq(nodeStatus.nodeId, 'bj-dc1.dr2'));
    const next = await (await t.req('/v1/sites/bj-dc1/revisions/1/progress', { as: 'viewer' })).json();
    expect(next.nodes.find((n: { name: string }) => n.name === 'dr2')).toMatchObject({ online: false, appliedRevision: 1, pendingRevision: null, errors: [] });
  });

  it('answers 404 for a revision the site does not have yet or a site it does not know, 400 for revision 0, 401 without a token', async () => {
    const notFound = await t.req('/v1/sites/bj-dc1/revisions/2/progress', { as: 'viewer' });
    expect(notFound.status).toBe(404);
    expect((await notFound.json()).error).toMatchObject({ code: 'not_found', message: expect.stringContaining('revision 2 of site "bj-dc1"') });
    expect((await t.req('/v1/sites/nope/revisions/1/progress', { as: 'viewer' })).status).toBe(404);
    expect((await t.req('/v1/sites/bj-dc1/revisions/0/progress', { as: 'viewer' })).status).toBe(400);
    expect((await t.req('/v1/sites/bj-dc1/revisions/1/progress', { as: null })).status).toBe(401);
  });
});
