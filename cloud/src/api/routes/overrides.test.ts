import { describe, expect, it } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import { parse, stringify } from 'yaml';
import { auditLog, events, nodeStatus, outbox } from '../../db/schema.ts';
import { sweepExpired } from '../../overrides/store.ts';
import { useTestApp } from '../test-app.test-support.ts';
import { SEEDS_YAML } from '../../../test/fixtures.test-support.ts';

const t = useTestApp();

const put = (yaml: string) => t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml });
const post = (json: unknown, as: 'admin' | 'operator' | 'viewer' = 'operator') => t.req('/v1/sites/bj-dc1/overrides', { method: 'POST', json, as });
const rows = () => t.db.db.select().from(outbox).orderBy(asc(outbox.id));
type Claims = { revision: number; overridesVersion?: number; overrides?: { id: string; kind: string }[]; config: { allowMassDelete: boolean } };

describe('/v1/sites/{site}/overrides', () => {
  it('drain rs1 for 30m: stored, audited, evented, sent to the directors only with a newer generation, no new revision', async () => {
    expect((await put(SEEDS_YAML)).status).toBe(200);
    const before = (await rows()).length;
    const res = await post({ kind: 'drain-realserver', realServer: 'rs1', for: '30m', reason: 'kernel update' });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.override).toMatchObject({
      kind: 'drain-realserver',
      address: '192.168.1.132',
      node: 'rs1',
      service: null,
      port: null,
      author: 'test-operator',
      reason: 'kernel update',
    });
    expect(Date.parse(body.override.until) - Date.parse(body.override.createdAt)).toBe(30 * 60_000);
    expect(body.summary).toMatch(/^rs1 drained for kernel update until \d\d:\d\d UTC by test-operator$/);
    expect(body.publishedNodes.sort()).toEqual(['bj-dc1.dr1', 'bj-dc1.dr2']);
    expect(t.kicks).toBeGreaterThan(0);
    const fresh = (await rows()).slice(before);
    expect(fresh.map((r) => [r.nodeId, r.revision, r.overridesVersion])).toEqual([
      ['bj-dc1.dr1', 1, 1],
      ['bj-dc1.dr2', 1, 1],
    ]);
    expect((fresh[0].claims as Claims).overrides!.map((o) => o.id)).toEqual([body.override.id]);
    expect((await (await t.req('/v1/sites/bj-dc1')).json()).revision).toBe(1);

    const listed = await (await t.req('/v1/sites/bj-dc1/overrides', { as: 'viewer' })).json();
    expect(listed.overrides.map((o: { override: { id: string } }) => o.override.id)).toEqual([body.override.id]);
    const audit = await t.db.db.select().from(auditLog).where(eq(auditLog.action, 'override.create'));
    expect(audit).toHaveLength(1);
    // `lvsfleet audit --site` finds it.
    expect(audit[0].site).toBe('bj-dc1');
    const ev = await t.db.db.select().from(events).where(eq(events.type, 'override.created'));
    expect(ev[0].data).toMatchObject({ id: body.override.id, summary: body.summary });

    // A new revision carries the active override along with the generation it was made at.
    const spec = parse(SEEDS_YAML);
    spec.spec.services[0].scheduler = 'rr';
    expect((await put(stringify(spec))).status).toBe(200);
    const r2 = (await rows()).filter((r) => r.revision === 2);
    expect(r2.map((r) => [r.nodeId, r.overridesVersion, (r.claims as Claims).overrides?.length])).toEqual([
      ['bj-dc1.dr1', 1, 1],
      ['bj-dc1.dr2', 1, 1],
    ]);

    // Cancel: the directors get the revision without it, generation 2.
    const del = await t.req(`/v1/sites/bj-dc1/overrides/${body.override.id}`, { method: 'DELETE', as: 'operator' });
    expect(del.status).toBe(200);
    expect(await del.json()).toMatchObject({ active: false, endReason: 'cancelled', endedBy: 'test-operator' });
    const last = (await rows()).slice(-2);
    expect(last.map((r) => [r.nodeId, r.revision, r.overridesVersion, (r.claims as Claims).overrides])).toEqual([
      ['bj-dc1.dr1', 2, 2, []],
      ['bj-dc1.dr2', 2, 2, []],
    ]);
    expect((await t.req(`/v1/sites/bj-dc1/overrides/${body.override.id}`, { method: 'DELETE' })).status).toBe(422);
    expect((await t.db.db.select().from(events).where(eq(events.type, 'override.cancelled'))).length).toBe(1);
    const all = await (await t.req('/v1/sites/bj-dc1/overrides?all=1')).json();
    expect(all.overrides).toHaveLength(1);
    expect((await (await t.req('/v1/sites/bj-dc1/overrides')).json()).overrides).toEqual([]);
  });

  it('scopes: a viewer may read, not create or cancel', async () => {
    await put(SEEDS_YAML);
    expect((await post({ kind: 'drain-realserver', realServer: 'rs1', for: '30m', reason: 'x' }, 'viewer')).status).toBe(403);
    expect((await t.req('/v1/sites/bj-dc1/overrides/ovr_x', { method: 'DELETE', as: 'viewer' })).status).toBe(403);
    expect((await t.req('/v1/sites/bj-dc1/overrides', { as: 'viewer' })).status).toBe(200);
  });

  it('a drain may carry its own drain timeout (drainTimeout → drainTimeoutMs); without one the agent uses its default', async () => {
    await put(SEEDS_YAML);
    const res = await post({ kind: 'drain-realserver', realServer: 'rs1', for: '2h', drainTimeout: '20m', reason: 'websockets' });
    expect(res.status).toBe(200);
    expect((await res.json()).override).toMatchObject({ kind: 'drain-realserver', drainTimeoutMs: 20 * 60_000 });
    const off = await post({ kind: 'disable-service', service: 'web', for: '10m', drainTimeout: '90s', reason: 'migration', force: true, forceReason: 'test' });
    expect(off.status).toBe(200);
    expect((await off.json()).override).toMatchObject({ kind: 'disable-service', drainTimeoutMs: 90_000 });
    const plain = await post({ kind: 'drain-realserver', realServer: 'rs2', for: '30m', reason: 'x', force: true, forceReason: 'test' });
    expect((await plain.json()).override).not.toHaveProperty('drainTimeoutMs');
  });

  it('errors name the field: unknown targets, bad durations, missing reason, unknown site', async () => {
    await put(SEEDS_YAML);
    const cases: [unknown, number, string][] = [
      [{ kind: 'drain-realserver', realServer: 'rs9', for: '30m', reason: 'x' }, 422, 'realServer'],
      [{ kind: 'drain-realserver', realServer: 'rs1', service: 'api', for: '30m', reason: 'x' }, 422, 'service'],
      [{ kind: 'maintenance-director', node: 'rs1', for: '1h', reason: 'x' }, 422, 'node'],
      [{ kind: 'failover', instance: 'VI_9', node: 'dr2', for: '10m', reason: 'x' }, 422, 'instance'],
      [{ kind: 'failover', instance: 'VI_1', for: '10m', reason: 'x' }, 422, 'node'],
      [{ kind: 'drain-realserver', realServer: 'rs1', for: '30 minutes', reason: 'x' }, 422, 'for'],
      [{ kind: 'drain-realserver', realServer: 'rs1', reason: 'x' }, 422, 'for'],
      [{ kind: 'drain-realserver', realServer: 'rs1', until: '2001-01-01T00:00:00Z', reason: 'x' }, 422, 'until'],
      [{ kind: 'drain-realserver', realServer: 'rs1', for: '30m', reason: 'x', force: true }, 422, 'forceReason'],
      [{ kind: 'drain-realserver', realServer: 'rs1', for: '30m', drainTimeout: '10 minutes', reason: 'x' }, 422, 'drainTimeout'],
      [{ kind: 'drain-realserver', realServer: 'rs1', for: '30m', drainTimeout: '0s', reason: 'x' }, 422, 'drainTimeout'],
      [{ kind: 'drain-realserver', realServer: 'rs1', for: '30m', drainTimeout: '32d', reason: 'x' }, 422, 'drainTimeout'],
      [{ kind: 'failover', instance: 'VI_1', node: 'dr2', for: '10m', drainTimeout: '10m', reason: 'x' }, 422, 'drainTimeout'],
    ];
    for (const [body, status, path] of cases) {
      const r = await post(body);
      const j = await r.json();
      expect([r.status, j.error.issues?.[0]?.path], JSON.stringify(body)).toEqual([status, path]);
    }
    const noReason = await post({ kind: 'drain-realserver', realServer: 'rs1', for: '30m' });
    expect(noReason.status).toBe(400);
    expect(
      (await t.req('/v1/sites/nope/overrides', { method: 'POST', json: { kind: 'disable-service', service: 'web', for: '1m', reason: 'x' } })).status,
    ).toBe(404);
  });

  it('refuses to leave a service without a serving real server or a group without a possible MASTER, unless forced with a reason (recorded)', async () => {
    await put(SEEDS_YAML);
    for (const rs of ['rs1', 'rs2']) expect((await post({ kind: 'drain-realserver', realServer: rs, for: '30m', reason: 'patching' })).status).toBe(200);
    const last = await post({ kind: 'drain-realserver', realServer: '192.168.1.113', for: '30m', reason: 'patching' });
    expect(last.status).toBe(409);
    expect((await last.json()).error).toMatchObject({ code: 'unsafe_override', problems: ['service web would have no serving real server'] });

    expect((await post({ kind: 'maintenance-director', node: 'dr1', for: '1h', reason: 'BIOS' })).status).toBe(200);
    const both = await post({ kind: 'drain-director', node: 'dr2', for: '1h', reason: 'BIOS' });
    expect(both.status).toBe(409);
    expect((await both.json()).error.problems).toEqual(['VI_1 would have no director able to be MASTER']);
    const toOut = await post({ kind: 'failover', instance: 'VI_1', node: 'dr1', for: '10m', reason: 'test' });
    expect((await toOut.json()).error.problems).toEqual(['failover of VI_1 to dr1 would not happen: dr1 is out of VRRP']);

    const forced = await post({ kind: 'drain-director', node: 'dr2', for: '1h', reason: 'BIOS', force: true, forceReason: 'site is drained at the router' });
    expect(forced.status).toBe(200);
    expect((await forced.json()).override.force).toEqual({ reason: 'site is drained at the router' });
    // disable-service means to stop serving: not refused.
    expect((await post({ kind: 'disable-service', service: 'web', for: '10m', reason: 'migration' })).status).toBe(200);
  });

  it('counts real servers the directors see down: draining the last healthy one is refused', async () => {
    await put(SEEDS_YAML);
    const rs = (address: string, healthy: boolean) => ({
      address,
      port: 80,
      healthy,
      weight: healthy ? 1 : 0,
      checked: true,
      detail: healthy ? 'ok' : 'connect refused',
    });
    const status = {
      appliedRevision: 1,
      at: new Date().toISOString(),
      vrrp: [{ instance: 'VI_1', vrid: 50, state: 'MASTER', priority: 100, effectivePriority: 100 }],
      services: [{ name: 'web', quorum: true, realServers: [rs('192.168.1.132', true), rs('192.168.1.133', false), rs('192.168.1.113', false)] }],
    };
    await t.db.db.insert(nodeStatus).values({ nodeId: 'bj-dc1.dr1', online: true, appliedRevision: 1, status });
    const r = await post({ kind: 'drain-realserver', realServer: 'rs1', for: '30m', reason: 'patching' });
    expect(r.status).toBe(409);
    expect((await r.json()).error.problems).toEqual(['service web would have no serving real server']);
    expect((await post({ kind: 'drain-realserver', realServer: 'rs2', for: '30m', reason: 'patching' })).status).toBe(200);
  });

  it('the sweep ends expired overrides: override.expired, audited as the system, documents without them', async () => {
    await put(SEEDS_YAML);
    const made = await (await post({ kind: 'failover', instance: 'VI_1', node: 'dr2', for: '10m', reason: 'test' })).json();
    expect(made.publishedNodes.sort()).toEqual(['bj-dc1.dr1', 'bj-dc1.dr2']);
    expect(await sweepExpired(t.db.db, new Date(Date.now() + 60_000))).toBe(0);
    expect(await sweepExpired(t.db.db, new Date(Date.now() + 11 * 60_000))).toBe(1);
    const ev = await t.db.db.select().from(events).where(eq(events.type, 'override.expired'));
    expect(ev[0].data).toMatchObject({ id: made.override.id, kind: 'failover' });
    expect((await t.db.db.select().from(auditLog).where(eq(auditLog.action, 'override.expire')))[0].actor).toBe('system');
    const last = (await rows()).slice(-2);
    expect(last.map((r) => [r.overridesVersion, (r.claims as Claims).overrides])).toEqual([
      [2, []],
      [2, []],
    ]);
  });
});
