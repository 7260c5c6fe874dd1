import { beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { useTestApp } from '../test-app.test-support.ts';
import { SEEDS_YAML } from '../../../test/fixtures.test-support.ts';

const t = useTestApp();
beforeEach(async () => {
  expect((await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: SEEDS_YAML })).status).toBe(200);
  const spec = parse(SEEDS_YAML);
  spec.spec.services[0].scheduler = 'rr';
  expect((await t.req('/v1/sites/bj-dc1/spec?message=rr', { method: 'PUT', yaml: stringify(spec) })).status).toBe(200);
});

describe('site reads (viewer scope)', () => {
  it('GET /v1/sites lists sites with revision and node count', async () => {
    const res = await t.req('/v1/sites', { as: 'viewer' });
    expect(res.status).toBe(200);
    expect((await res.json()).sites).toEqual([expect.objectContaining({ name: 'bj-dc1', revision: 2, nodes: 4 })]);
  });

  it('GET /v1/sites/{site} answers the current spec and revision', async () => {
    const res = await t.req('/v1/sites/bj-dc1', { as: 'viewer' });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"2"');
    const body = await res.json();
    expect(body).toMatchObject({ name: 'bj-dc1', revision: 2 });
    expect(body.spec.spec.services[0].scheduler).toBe('rr');
  });

  it('GET revisions lists newest first; GET revisions/{n} answers that spec', async () => {
    const list = await (await t.req('/v1/sites/bj-dc1/revisions', { as: 'viewer' })).json();
    expect(list.revisions.map((r: { revision: number; message: string }) => [r.revision, r.message])).toEqual([
      [2, 'rr'],
      [1, ''],
    ]);
    const one = await (await t.req('/v1/sites/bj-dc1/revisions/1', { as: 'viewer' })).json();
    expect(one).toMatchObject({ revision: 1, author: 'test-admin', rolledBackFrom: null });
    expect(one.spec.spec.services[0].scheduler).toBe('wlc');
  });

  it('GET nodes answers live nodes with desired and applied revisions', async () => {
    const { nodes } = await (await t.req('/v1/sites/bj-dc1/nodes', { as: 'viewer' })).json();
    expect(
      nodes.map((n: { name: string; desiredRevision: number; online: boolean; appliedRevision: null }) => [
        n.name,
        n.desiredRevision,
        n.online,
        n.appliedRevision,
      ]),
    ).toEqual([
      ['dr1', 2, false, null],
      ['dr2', 2, false, null],
      ['rs1', 1, false, null],
      ['rs2', 1, false, null],
    ]);
  });

  it('GET services answers resolved services', async () => {
    const { services } = await (await t.req('/v1/sites/bj-dc1/services', { as: 'viewer' })).json();
    expect(services).toEqual([
      expect.objectContaining({
        name: 'web',
        vip: '192.168.1.150',
        port: 80,
        protocol: 'tcp',
        scheduler: 'rr',
        forwarding: 'dr',
        directors: ['dr1', 'dr2'],
        realServers: [
          { node: 'rs1', address: '192.168.1.132', port: 80, weight: 2, forwarding: 'dr' },
          { node: 'rs2', address: '192.168.1.133', port: 80, weight: 1, forwarding: 'dr' },
          { node: null, address: '192.168.1.113', port: 80, weight: 1, forwarding: 'dr' },
        ],
      }),
    ]);
  });

  it('answers 404 not_found for unknown sites and revisions, 400 for a bad revision number', async () => {
    for (const path of [
      '/v1/sites/nope',
      '/v1/sites/nope/revisions',
      '/v1/sites/nope/nodes',
      '/v1/sites/nope/services',
      '/v1/sites/nope/status',
      '/v1/sites/bj-dc1/revisions/7',
    ]) {
      const res = await t.req(path, { as: 'viewer' });
      expect(res.status, path).toBe(404);
      expect((await res.json()).error.code).toBe('not_found');
    }
    const bad = await t.req('/v1/sites/bj-dc1/revisions/zero', { as: 'viewer' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.issues[0].path).toBe('n');
  });
});

describe('secrets in specs', () => {
  const password = async (path: string, as: 'admin' | 'operator' | 'viewer') => (await (await t.req(path, { as })).json()).spec.spec.vrrp[0].auth.password;

  it('redacts VRRP auth.password for viewer and operator reads of the site and of a revision; admin reads it', async () => {
    for (const path of ['/v1/sites/bj-dc1', '/v1/sites/bj-dc1/revisions/1']) {
      expect(await password(path, 'viewer')).toBe('********');
      expect(await password(path, 'operator')).toBe('********');
      expect(await password(path, 'admin')).toBe('1111');
    }
  });

  it('keeps the stored password when an operator sends back a spec it read redacted', async () => {
    const read = await (await t.req('/v1/sites/bj-dc1', { as: 'operator' })).json();
    read.spec.spec.services[0].scheduler = 'wlc';
    const put = await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: stringify(read.spec), as: 'operator' });
    expect(put.status).toBe(200);
    expect(await password('/v1/sites/bj-dc1/revisions/3', 'admin')).toBe('1111');
    const renamed = structuredClone(read.spec);
    renamed.spec.vrrp[0].name = 'VI_NEW';
    const refused = await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: stringify(renamed), as: 'operator' });
    expect(refused.status).toBe(422);
    expect((await refused.json()).error.issues).toEqual([expect.objectContaining({ path: 'spec.vrrp[0].auth.password' })]);
  });
});
