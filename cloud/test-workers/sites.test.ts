import { exports } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';

const token = inject('workersToken');
const kind = inject('workersDatabaseKind');

describe(`the Workers entry (workerd + postgres.js, ${kind})`, () => {
  it('answers GET /v1/sites and 401 for an unknown token', async () => {
    const res = await exports.default.fetch('http://lvsfleet.test/v1/sites', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { sites: unknown[] }).sites).toEqual(expect.any(Array));
    expect((await exports.default.fetch('http://lvsfleet.test/v1/sites', { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
  });

  it('refuses a report without node credentials, and one with wrong ones', async () => {
    const body = JSON.stringify({ nodeId: 'n_x', online: true });
    const none = await exports.default.fetch('http://lvsfleet.test/v1/agent/status', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(none.status).toBe(401);
    const wrong = await exports.default.fetch('http://lvsfleet.test/v1/agent/status', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', authorization: `Basic ${btoa('n_x:nope')}` },
    });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });
});
