import { describe, expect, it } from 'vitest';
import { asc } from 'drizzle-orm';
import { auditLog } from '../db/schema.ts';
import { useTestApp } from './test-app.test-support.ts';
import { SEEDS_YAML } from '../../test/fixtures.test-support.ts';

const t = useTestApp();

describe('auth', () => {
  it('answers 401 unauthorized without a token or with an unknown one', async () => {
    const none = await t.req('/v1/sites', { as: null });
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('missing bearer token') } });
    const bad = await t.req('/v1/sites', { as: null, headers: { authorization: 'Bearer lvf_nope' } });
    expect(bad.status).toBe(401);
  });

  it('orders scopes admin ⊃ operator ⊃ viewer', async () => {
    expect((await t.req('/v1/sites', { as: 'viewer' })).status).toBe(200);
    expect((await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: SEEDS_YAML, as: 'viewer' })).status).toBe(403);
    expect((await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: SEEDS_YAML, as: 'operator' })).status).toBe(200);
    expect((await t.req('/v1/tokens', { as: 'operator' })).status).toBe(403);
    expect((await t.req('/v1/tokens', { as: 'admin' })).status).toBe(200);
  });

  it('lets an admin make and revoke tokens, audited; a revoked token answers 401', async () => {
    const made = await t.req('/v1/tokens', { method: 'POST', json: { name: 'ci', scope: 'viewer' } });
    expect(made.status).toBe(200);
    const { id, token, scope } = await made.json();
    expect(scope).toBe('viewer');
    expect((await t.app.request('/v1/sites', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const list = await (await t.req('/v1/tokens')).json();
    expect(list.tokens.map((x: { name: string }) => x.name)).toContain('ci');
    expect(JSON.stringify(list)).not.toContain(token);
    expect((await t.req(`/v1/tokens/${id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await t.app.request('/v1/sites', { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    expect((await t.req(`/v1/tokens/${id}`, { method: 'DELETE' })).status).toBe(404);
    const audits = await t.db.db.select().from(auditLog).orderBy(asc(auditLog.id));
    expect(audits.map((a) => a.action)).toEqual(['token.create', 'token.revoke']);
  });
});

describe('webhooks (admin)', () => {
  it('an admin adds, lists and disables a webhook, audited; an operator gets 403', async () => {
    expect((await t.req('/v1/webhooks', { as: 'operator' })).status).toBe(403);
    const made = await t.req('/v1/webhooks', { method: 'POST', json: { url: 'https://hooks.example.com/lvsfleet', events: ['node.offline'] } });
    expect(made.status).toBe(200);
    const hook = await made.json();
    expect(hook).toMatchObject({
      url: 'https://hooks.example.com/lvsfleet',
      format: 'standard',
      events: ['node.offline'],
      secret: expect.stringMatching(/^whsec_/),
    });
    const list = await (await t.req('/v1/webhooks')).json();
    expect(list.webhooks).toEqual([expect.not.objectContaining({ secret: expect.anything() })]);
    expect((await t.req(`/v1/webhooks/${hook.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await (await t.req('/v1/webhooks')).json()).webhooks).toEqual([]);
    const bad = await t.req('/v1/webhooks', { method: 'POST', json: { url: 'ftp://x' } });
    expect(bad.status).toBe(400);
    const audits = await t.db.db.select().from(auditLog).orderBy(asc(auditLog.id));
    expect(audits.map((a) => a.action)).toEqual(['webhook.create', 'webhook.disable']);
  });
});

describe('service routes', () => {
  it('GET /healthz answers ok without a token', async () => {
    const res = await t.app.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('GET /openapi.json describes every route from the zod schemas', async () => {
    const res = await t.app.request('/openapi.json');
    expect(res.status).toBe(200);
    const doc = await res.json();
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/v1/sites',
      '/v1/sites/{site}',
      '/v1/sites/{site}/spec',
      '/v1/sites/{site}/revisions',
      '/v1/sites/{site}/revisions/{n}',
      '/v1/sites/{site}/rollback',
      '/v1/sites/{site}/nodes',
      '/v1/sites/{site}/services',
      '/v1/sites/{site}/status',
      '/v1/sites/{site}/nodes/{node}/enrollment',
      '/v1/agent/enroll',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(doc.components.schemas.ApplyResult.properties.revision).toEqual({ type: 'integer' });
    const site = doc.components.schemas.SiteSpecDocument;
    expect(site.required).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(site.properties.spec.properties.vrrp.items.properties.vrid).toMatchObject({ type: 'integer', minimum: 1, maximum: 255 });
    expect(Object.keys(doc.paths['/v1/sites/{site}/spec'].put.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '409', '413', '422']));
  });

  it('answers unknown routes with the error shape', async () => {
    const res = await t.req('/v1/nothing-here');
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('not_found');
  });

  it('serves the status page of an applied site (private by default: to a viewer token)', async () => {
    await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: SEEDS_YAML });
    expect((await t.app.request('/status/bj-dc1.json')).status).toBe(401);
    expect((await t.req('/status/bj-dc1.json', { as: 'viewer' })).status).toBe(200);
    expect((await t.req('/status/nope.json', { as: 'viewer' })).status).toBe(404);
  });
});
