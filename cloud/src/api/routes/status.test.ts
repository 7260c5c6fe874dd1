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

describe('GET /v1/sites/{site}/status', () => {
  it('joins node_status and recent events to the live nodes', async () => {
    const at = '2026-11-22T01:00:00.000Z';
    const site = await requireSite(t.db.db, 'default', 'bj-dc1');
    await t.db.db.insert(nodeStatus).values([
      {
        nodeId: 'bj-dc1.dr1',
        online: true,
        appliedRevision: 1,
        status: {
          nodeId: 'bj-dc1.dr1',
          online: true,
          appliedRevision: 1,
          vrrp: [{ instance: 'VI_1', vrid: 50, state: 'MASTER', priority: 100, effectivePriority: 100 }],
          services: [{ name: 'web', quorum: true, realServers: [{ address: '192.168.1.132', port: 80, healthy: false, weight: 0, detail: 'HTTP 500' }] }],
        },
      },
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
