import { describe, expect, it } from 'vitest';
import { and, asc, eq, isNull } from 'drizzle-orm';
import { parse, stringify } from 'yaml';
import { auditLog, nodes, outbox, siteRevisions } from '../../db/schema.ts';
import { useTestApp } from '../test-app.test-support.ts';
import { SPEC_BODY_LIMITS } from './spec.ts';
import { BROKEN_YAML, SEEDS_YAML } from '../../../test/fixtures.test-support.ts';

const t = useTestApp();

const put = (yaml: string, query = '', headers: Record<string, string> = {}) => t.req(`/v1/sites/bj-dc1/spec${query}`, { method: 'PUT', yaml, headers });
const seeds = () => parse(SEEDS_YAML);
const outboxRows = () => t.db.db.select().from(outbox).orderBy(asc(outbox.id));

describe('PUT /v1/sites/{site}/spec', () => {
  it('stores revision 1 of the seeds site with one outbox row per node, nodes and an audit row', async () => {
    const res = await put(SEEDS_YAML, '?message=first');
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ site: 'bj-dc1', revision: 1, previousRevision: 0, unchanged: false, dryRun: false });
    expect(body.publishedNodes).toEqual(['dr1', 'dr2', 'rs1', 'rs2']);
    expect(body.diff.nodes.added).toEqual(['dr1', 'dr2', 'rs1', 'rs2']);
    expect(res.headers.get('etag')).toBe('"1"');
    const rows = await outboxRows();
    expect(rows.map((r) => [r.nodeId, r.revision])).toEqual([
      ['bj-dc1.dr1', 1],
      ['bj-dc1.dr2', 1],
      ['bj-dc1.rs1', 1],
      ['bj-dc1.rs2', 1],
    ]);
    const claims = rows[0].claims as { nodeId: string; site: string; revision: number; config: { node: { name: string } } };
    expect(claims).toMatchObject({ nodeId: 'bj-dc1.dr1', site: 'bj-dc1', revision: 1, config: { node: { name: 'dr1' } } });
    const nodeRows = await t.db.db.select().from(nodes).orderBy(asc(nodes.name));
    expect(nodeRows.map((n) => [n.name, n.role, n.desiredRevision])).toEqual([
      ['dr1', 'director', 1],
      ['dr2', 'director', 1],
      ['rs1', 'realserver', 1],
      ['rs2', 'realserver', 1],
    ]);
    const [rev] = await t.db.db.select().from(siteRevisions);
    expect(rev).toMatchObject({ revision: 1, author: 'test-admin', message: 'first' });
    const audits = await t.db.db.select().from(auditLog);
    expect(audits.map((a) => [a.action, a.target, a.actor])).toEqual([['site.apply', 'bj-dc1', 'test-admin']]);
    expect(t.kicks).toBe(1);
  });

  it('treats an identical re-apply as a no-op: 200, same revision, no new revision or outbox rows', async () => {
    await put(SEEDS_YAML);
    const again = await put(stringify(seeds())); // same spec, different text
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ revision: 1, previousRevision: 1, unchanged: true, publishedNodes: [] });
    expect(await outboxRows()).toHaveLength(4);
    expect(await t.db.db.select().from(siteRevisions)).toHaveLength(1);
    expect(t.kicks).toBe(1);
  });

  it('gives outbox rows only to nodes whose compiled config changed', async () => {
    await put(SEEDS_YAML);
    const spec = seeds();
    spec.spec.services[0].realServers[1].weight = 5; // rs2's weight: directors' IPVS tables only
    const res = await put(stringify(spec));
    const body = await res.json();
    expect(body).toMatchObject({ revision: 2, publishedNodes: ['dr1', 'dr2'] });
    expect(body.diff.realServers.changed).toEqual(['web/192.168.1.133:80']);
    expect(body.diff.nodeConfigs.changed).toEqual(['dr1', 'dr2']);
    const rows = await outboxRows();
    expect(rows.filter((r) => r.revision === 2).map((r) => r.nodeId)).toEqual(['bj-dc1.dr1', 'bj-dc1.dr2']);
    const nodeRows = await t.db.db.select().from(nodes).orderBy(asc(nodes.name));
    expect(nodeRows.map((n) => n.desiredRevision)).toEqual([2, 2, 1, 1]);
  });

  it('marks removed nodes removed_at and publishes nothing to them', async () => {
    await put(SEEDS_YAML);
    const spec = seeds();
    spec.spec.nodes = spec.spec.nodes.filter((n: { name: string }) => n.name !== 'rs2');
    spec.spec.services[0].realServers = spec.spec.services[0].realServers.filter((r: { node?: string }) => r.node !== 'rs2');
    const res = await put(stringify(spec));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.diff.nodes.removed).toEqual(['rs2']);
    expect(body.publishedNodes).toEqual(['dr1', 'dr2']);
    const [rs2] = await t.db.db.select().from(nodes).where(eq(nodes.name, 'rs2'));
    expect(rs2.removedAt).toBeInstanceOf(Date);
    const live = await t.db.db.select({ name: nodes.name }).from(nodes).where(isNull(nodes.removedAt));
    expect(live.map((n) => n.name).sort()).toEqual(['dr1', 'dr2', 'rs1']);
  });

  it('dryRun answers the diff and writes nothing', async () => {
    const res = await put(SEEDS_YAML, '?dryRun=1');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ dryRun: true, revision: 0, publishedNodes: ['dr1', 'dr2', 'rs1', 'rs2'] });
    expect(await outboxRows()).toHaveLength(0);
    expect(await t.db.db.select().from(siteRevisions)).toHaveLength(0);
    expect(await t.db.db.select().from(auditLog)).toHaveLength(0);
    expect(t.kicks).toBe(0);
    expect((await t.req('/v1/sites/bj-dc1')).status).toBe(404);
  });

  it('accepts JSON bodies', async () => {
    const res = await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', json: seeds() });
    expect(res.status).toBe(200);
    expect((await res.json()).revision).toBe(1);
  });

  it('answers 409 stale_revision for a stale If-Match and applies with the current one', async () => {
    await put(SEEDS_YAML);
    const spec = seeds();
    spec.spec.services[0].scheduler = 'rr';
    const stale = await put(stringify(spec), '', { 'if-match': '"0"' });
    expect(stale.status).toBe(409);
    expect((await stale.json()).error).toMatchObject({ code: 'stale_revision', currentRevision: 1 });
    const ok = await put(stringify(spec), '', { 'if-match': '"1"' });
    expect(ok.status).toBe(200);
    expect((await ok.json()).revision).toBe(2);
  });

  it('never gives two concurrent applies the same revision number', async () => {
    const specs = [1, 2, 3, 4, 5].map((w) => {
      const s = seeds();
      s.spec.services[0].realServers[0].weight = w + 10;
      return stringify(s);
    });
    const results = await Promise.all(specs.map((s) => put(s)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const revisions = (await Promise.all(results.map((r) => r.json()))).map((b) => b.revision).sort();
    expect(revisions).toEqual([1, 2, 3, 4, 5]);
  });

  it('lets only one of two concurrent applies with the same If-Match win', async () => {
    await put(SEEDS_YAML);
    const a = seeds();
    a.spec.services[0].scheduler = 'rr';
    const b = seeds();
    b.spec.services[0].scheduler = 'lc';
    const res = await Promise.all([put(stringify(a), '', { 'if-match': '1' }), put(stringify(b), '', { 'if-match': '1' })]);
    expect(res.map((r) => r.status).sort()).toEqual([200, 409]);
  });

  it('answers 422 with path and line for an invalid spec, and writes nothing', async () => {
    const bad = SEEDS_YAML.replace('vrid: 50', 'vrid: 300');
    const res = await put(bad);
    expect(res.status).toBe(422);
    const { error } = await res.json();
    expect(error.code).toBe('invalid_spec');
    const line = bad.split('\n').findIndex((l) => l.includes('vrid: 300')) + 1;
    expect(error.issues).toContainEqual(expect.objectContaining({ path: 'spec.vrrp[0].vrid', line }));
    expect(await t.db.db.select().from(siteRevisions)).toHaveLength(0);
  });

  it('answers 422 naming metadata.name when it differs from the URL', async () => {
    const res = await t.req('/v1/sites/other/spec', { method: 'PUT', yaml: SEEDS_YAML });
    expect(res.status).toBe(422);
    const { error } = await res.json();
    expect(error.issues).toEqual([expect.objectContaining({ path: 'metadata.name' })]);
  });

  it('answers 400 parse_error with the line for broken YAML, and for broken JSON', async () => {
    const res = await put(BROKEN_YAML);
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe('parse_error');
    expect(error.issues[0].line).toBeGreaterThanOrEqual(3);
    const json = await t.req('/v1/sites/bj-dc1/spec', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{\n"apiVersion": "lvsfleet/v1",\n"kind": \n}',
    });
    expect(json.status).toBe(400);
    expect((await json.json()).error.code).toBe('parse_error');
  });

  it('answers 415 for other content types and 400 for an empty body', async () => {
    const res = await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', headers: { 'content-type': 'application/xml' }, body: '<site/>' });
    expect(res.status).toBe(415);
    expect((await res.json()).error.code).toBe('unsupported_media_type');
    expect((await put('')).status).toBe(400);
  });

  it("takes a spec past the API's general 1 MiB, up to SPEC_BODY_LIMITS by format; answers 413 past them, and past 1 MiB elsewhere", async () => {
    const MiB = 1024 * 1024;
    // Padded with a comment (YAML) or spaces (JSON): the site stays the seeds', the body grows.
    const yamlOf = (bytes: number) => `# ${'x'.repeat(bytes - SEEDS_YAML.length - 3)}\n${SEEDS_YAML}`;
    const json = JSON.stringify(seeds());
    const jsonOf = (bytes: number) => json + ' '.repeat(bytes - json.length);
    const putJson = (body: string) => t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', headers: { 'content-type': 'application/json' }, body });

    const yamlOk = await put(yamlOf(SPEC_BODY_LIMITS.yaml));
    expect(yamlOk.status).toBe(200);
    expect((await yamlOk.json()).revision).toBe(1);
    const yamlOver = await put(yamlOf(SPEC_BODY_LIMITS.yaml + 1));
    expect(yamlOver.status).toBe(413);
    expect((await yamlOver.json()).error).toMatchObject({
      code: 'payload_too_large',
      message: expect.stringContaining(`as JSON (up to ${SPEC_BODY_LIMITS.json} bytes)`),
    });

    const jsonOk = await putJson(jsonOf(SPEC_BODY_LIMITS.json));
    expect(jsonOk.status).toBe(200);
    expect(await jsonOk.json()).toMatchObject({ revision: 1, unchanged: true });
    const jsonOver = await putJson(jsonOf(SPEC_BODY_LIMITS.json + 1));
    expect(jsonOver.status).toBe(413);
    expect((await jsonOver.json()).error.message).toContain('split the site');

    // Another route keeps the general limit.
    const token = await t.req('/v1/tokens', { method: 'POST', json: { name: 'x'.repeat(MiB + 1), scope: 'viewer' } });
    expect(token.status).toBe(413);
    expect(SPEC_BODY_LIMITS.yaml).toBeGreaterThan(MiB);
  });

  it('guards mass deletes: 409 mass_delete unless force or spec.allowMassDelete', async () => {
    await put(SEEDS_YAML);
    const spec = seeds();
    spec.spec.services[0].realServers = spec.spec.services[0].realServers.slice(0, 1); // 2 of 3 real servers go
    const res = await put(stringify(spec));
    expect(res.status).toBe(409);
    const { error } = await res.json();
    expect(error).toMatchObject({ code: 'mass_delete', massDelete: { realServers: { removed: 2, total: 3 }, exceeded: true } });
    const dry = await put(stringify(spec), '?dryRun=1');
    expect((await dry.json()).diff.massDelete.exceeded).toBe(true);
    const forced = await put(stringify(spec), '?force=1');
    expect(forced.status).toBe(200);
    expect((await forced.json()).revision).toBe(2);
    // The permission reaches the directors' guard in revision 2's signed documents, and only there.
    const allowOf = async (revision: number) =>
      (await outboxRows())
        .filter((r) => r.revision === revision)
        .map((r) => [r.nodeId, (r.claims as { config: { allowMassDelete: boolean } }).config.allowMassDelete]);
    expect(await allowOf(1)).toEqual([
      ['bj-dc1.dr1', false],
      ['bj-dc1.dr2', false],
      ['bj-dc1.rs1', false],
      ['bj-dc1.rs2', false],
    ]);
    expect(await allowOf(2)).toEqual([
      ['bj-dc1.dr1', true],
      ['bj-dc1.dr2', true],
      ['bj-dc1.rs2', true],
    ]);
    const next = seeds();
    next.spec.services[0].realServers = next.spec.services[0].realServers.slice(0, 1);
    next.spec.services[0].scheduler = 'rr';
    expect((await put(stringify(next))).status).toBe(200);
    expect((await allowOf(3)).every(([, allow]) => allow === false)).toBe(true);
    const none = seeds();
    delete none.spec.services;
    none.spec.allowMassDelete = true;
    const allowed = await put(stringify(none));
    expect(allowed.status).toBe(200);
    expect((await allowed.json()).diff.services.removed).toEqual(['web']);
  });

  it('needs operator scope to apply', async () => {
    const res = await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: SEEDS_YAML, as: 'viewer' });
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe('forbidden');
    expect((await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: SEEDS_YAML, as: 'operator' })).status).toBe(200);
  });
});

describe('POST /v1/sites/{site}/rollback', () => {
  it('makes a new revision with the old spec and publishes the changed nodes', async () => {
    await put(SEEDS_YAML);
    const spec = seeds();
    spec.spec.services[0].scheduler = 'rr';
    await put(stringify(spec));
    const res = await t.req('/v1/sites/bj-dc1/rollback', { method: 'POST', json: { revision: 1 }, as: 'operator' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ revision: 3, previousRevision: 2, publishedNodes: ['dr1', 'dr2'] });
    const [r3] = await t.db.db
      .select()
      .from(siteRevisions)
      .where(and(eq(siteRevisions.revision, 3)));
    expect(r3).toMatchObject({ rolledBackFrom: 1, message: 'rollback to revision 1' });
    expect(r3.specHash).toBe((await t.db.db.select().from(siteRevisions).where(eq(siteRevisions.revision, 1)))[0].specHash);
    const audits = await t.db.db.select().from(auditLog).orderBy(asc(auditLog.id));
    expect(audits.map((a) => a.action)).toEqual(['site.apply', 'site.apply', 'site.rollback']);
  });

  it('answers 404 for an unknown revision or site and 400 for a bad body', async () => {
    await put(SEEDS_YAML);
    expect((await t.req('/v1/sites/bj-dc1/rollback', { method: 'POST', json: { revision: 9 } })).status).toBe(404);
    expect((await t.req('/v1/sites/nope/rollback', { method: 'POST', json: { revision: 1 } })).status).toBe(404);
    const bad = await t.req('/v1/sites/bj-dc1/rollback', { method: 'POST', json: { revision: 'one' } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.issues[0].path).toBe('revision');
  });
});

describe('commands hosts execute need an admin token', () => {
  const withMisc = (weight = 2) => {
    const s = seeds();
    s.spec.services[0].realServers[0] = { node: 'rs1', port: 80, weight, healthCheck: { type: 'misc', command: '/etc/lvsfleet/scripts/check-web' } };
    return stringify(s);
  };
  const putAs = (as: 'admin' | 'operator', yaml: string) => t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml, as });

  it('answers 403 naming the field when an operator adds a misc check; an admin may, and the operator may then edit around it', async () => {
    expect((await putAs('operator', SEEDS_YAML)).status).toBe(200);
    const refused = await putAs('operator', withMisc());
    expect(refused.status).toBe(403);
    const body = await refused.json();
    expect(body.error).toMatchObject({ code: 'forbidden', issues: [{ path: 'spec.services[0].realServers[0].healthCheck.command' }] });
    expect(body.error.message).toContain('spec.services[0].realServers[0].healthCheck.command');
    expect((await putAs('admin', withMisc())).status).toBe(200);
    expect((await putAs('operator', withMisc(5))).status).toBe(200);
  });
});
