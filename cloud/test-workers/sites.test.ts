import { exports } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';

const token = inject('workersToken');
if (!token) console.log('workers tests skipped: DATABASE_URL is not set (they need a real PostgreSQL)');

describe('the Workers entry (workerd + postgres.js)', () => {
  it.skipIf(!token)('answers GET /v1/sites from PostgreSQL', async () => {
    const res = await exports.default.fetch('http://lvsfleet.test/v1/sites', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { sites: { name: string; revision: number; nodes: number }[] };
    expect(body.sites).toEqual([expect.objectContaining({ name: 'bj-dc1', revision: 1, nodes: 4 })]);
  });

  it.skipIf(!token)('answers 401 for an unknown token and a site spec with 200', async () => {
    expect((await exports.default.fetch('http://lvsfleet.test/v1/sites', { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    const site = await exports.default.fetch('http://lvsfleet.test/v1/sites/bj-dc1', { headers: { authorization: `Bearer ${token}` } });
    expect(site.status).toBe(200);
    expect(((await site.json()) as { revision: number }).revision).toBe(1);
  });
});
