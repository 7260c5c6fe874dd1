import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { openSiteLeases, type SiteLeases } from './site-leases.ts';
import { freshPostgres, sessionPid } from '../../test/pg.test-support.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';

// Session advisory locks need PostgreSQL's sessions (DATABASE_URL); PGlite has one process's only.
describe.skipIf(!process.env.DATABASE_URL)('site leases on PostgreSQL', () => {
  let pg: Awaited<ReturnType<typeof freshPostgres>>;
  let admin: postgres.Sql;
  const opened: SiteLeases[] = [];
  const logs: string[] = [];
  const open = async (name: string) => {
    const l = await openSiteLeases(pg.url, { name: `lvsfleet-site-leases ${name}`, log: (line) => logs.push(`${name}: ${line}`) });
    opened.push(l);
    return l;
  };
  beforeAll(async () => {
    pg = await freshPostgres(process.env.DATABASE_URL!);
    admin = postgres(pg.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    for (const l of opened) await l.close();
    await admin?.end({ timeout: 5 });
    await pg?.drop();
  });

  it('one holder per site; idle leases go; a lost session holds nothing and its claim turns invalid', async () => {
    const [a, b] = [await open('A'), await open('B')];
    const ca = await a.claim(['s1', 's2']);
    expect(ca.owned).toEqual(new Set(['s1', 's2']));
    expect((await b.claim(['s1', 's2', 's3'])).owned).toEqual(new Set(['s3']));
    // A again, still holding s1 and s2 (no second lock taken: one unlock lets it go).
    expect((await a.claim(['s1', 's2'])).owned).toEqual(new Set(['s1', 's2']));
    // A has nothing for s2 any more: it lets it go and B can take it.
    expect((await a.claim(['s1'])).owned).toEqual(new Set(['s1']));
    expect((await b.claim(['s1', 's2', 's3'])).owned).toEqual(new Set(['s2', 's3']));

    // A's session dies: its claim turns invalid, B takes s1, A reconnected holds nothing.
    const pid = await sessionPid(admin, 'lvsfleet-site-leases A');
    const held = await a.claim(['s1']);
    await admin`SELECT pg_terminate_backend(${pid}::int)`;
    await waitFor(() => !held.valid(), { what: "A's claim invalid", timeoutMs: 5000 });
    expect(logs).toContain('A: publisher: lease connection closed; its site leases are gone');
    expect((await b.claim(['s1', 's2', 's3'])).owned).toEqual(new Set(['s1', 's2', 's3']));
    const again = await a.claim(['s1', 's2']);
    expect(again.owned).toEqual(new Set());
    expect(again.valid()).toBe(true);
  });

  it('takes and lets go of many sites at once, each lease with one holder, as the server sees it', async () => {
    const [c, d] = [await open('C'), await open('D')];
    const sites = Array.from({ length: 40 }, (_, i) => `many-${i}`);
    const [first, second] = [sites.slice(0, 25), sites.slice(15)];
    expect((await c.claim(first)).owned).toEqual(new Set(first));
    // The 10 in both are C's: D gets the other 15.
    expect((await d.claim(second)).owned).toEqual(new Set(sites.slice(25)));
    const locks = async (name: string) => {
      const pid = await sessionPid(admin, `lvsfleet-site-leases ${name}`);
      const [r] = await admin<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = ${pid}::int AND granted`;
      return r.n;
    };
    expect([await locks('C'), await locks('D')]).toEqual([25, 15]);
    // C lets go of all but 5 in one claim; D then takes the 20 that C let go of.
    expect((await c.claim(sites.slice(0, 5))).owned).toEqual(new Set(sites.slice(0, 5)));
    expect(await locks('C')).toBe(5);
    expect((await d.claim(sites)).owned).toEqual(new Set(sites.slice(5)));
    expect([await locks('C'), await locks('D')]).toEqual([5, 35]);
  });
});
