import { env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { describe, expect, inject, it } from 'vitest';
import { sites } from '../src/db/schema.ts';
import { openWorkerDb } from '../src/workers/db.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { natSite, publisherState, sitePublishers, untilDrained } from './site.test-support.ts';

const token = inject('workersToken');
const kind = inject('workersDatabaseKind');

describe(`the Workers entry (workerd + postgres.js, ${kind})`, () => {
  it('answers GET /v1/sites and 401 for an unknown token', async () => {
    const res = await exports.default.fetch('http://lvsfleet.test/v1/sites', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { sites: unknown[] }).sites).toEqual(expect.any(Array));
    expect((await exports.default.fetch('http://lvsfleet.test/v1/sites', { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
  });

  it("bounds a spec at the API's general 1 MiB (an isolate has 128 MB), not at Node's larger spec limits", async () => {
    const body = `{"apiVersion":"lvsfleet/v1"}${' '.repeat(1024 * 1024)}`;
    const res = await exports.default.fetch('http://lvsfleet.test/v1/sites/big/spec', {
      method: 'PUT',
      body,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(body.length) },
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('larger than 1048576 bytes');
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

  it("a site's publisher answers what it is doing: its site, a drain under way, its next alarm, failures in a row", async () => {
    const applied = await exports.default.fetch('http://lvsfleet.test/v1/sites/pubstate/spec', {
      method: 'PUT',
      body: JSON.stringify(natSite('pubstate')),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
    expect(applied.status, await applied.clone().text()).toBe(200);
    const db = openWorkerDb(env as never)!;
    await untilDrained(db, 'pubstate');
    const [site] = await db.select({ id: sites.id }).from(sites).where(eq(sites.name, 'pubstate'));
    const ns = sitePublishers();
    const state = (name: string) => publisherState(ns.get(ns.idFromName(name)));
    // The drain's last steps (closing its link, the next due row) may still run after the rows are marked.
    await waitFor(async () => (await state(site.id)).drainingSince === null, { what: 'the drain to end' });
    expect(await state(site.id)).toEqual({ siteId: site.id, drainingSince: null, alarmAt: null, failures: 0 });
    // One never woken has no site.
    expect(await state('never-woken')).toEqual({ siteId: null, drainingSince: null, alarmAt: null, failures: 0 });
  });
});
