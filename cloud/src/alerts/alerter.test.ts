import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Site } from '#shared/site/site.ts';
import { alerts, nodeStatus, nodes, orgs, sites } from '../db/schema.ts';
import { openTestDatabase, type TestDatabase } from '../db/test-db.test-support.ts';
import { applySite } from '../sites/apply.ts';
import { StatusBook } from '../status/book.ts';
import { alertRound } from './alerter.ts';

/**
 * One site's failed write must not hold back another site's alerts: a round goes on to the next
 * site, and the failed site's alerts are raised by a later round once its writes succeed. The
 * failure is real: a trigger refuses the first site's `alerts` rows, as a lost connection or a
 * conflict would.
 */
describe('an alerting round with one site failing', () => {
  let tdb: TestDatabase;
  const seeds = Site.parse(parse(readFileSync(fileURLToPath(new URL('../../../examples/seeds-lvs-dr.yaml', import.meta.url)), 'utf8')));
  const named = (name: string): Site => ({ ...seeds, metadata: { ...seeds.metadata, name } });

  beforeAll(async () => {
    tdb = await openTestDatabase();
    await tdb.db.insert(orgs).values({ id: 'default', name: 'default' }).onConflictDoNothing();
    for (const name of ['failing', 'healthy']) await applySite(tdb.db, { orgId: 'default', site: named(name), author: 'test' });
    // Every node reported once and is offline now: conditions to raise on both sites.
    const ids = (await tdb.db.select({ id: nodes.id }).from(nodes)).map((n) => n.id);
    await tdb.db.insert(nodeStatus).values(ids.map((nodeId) => ({ nodeId, online: false, updatedAt: new Date(Date.now() - 60_000) })));
  }, 60_000);

  afterAll(async () => {
    await tdb?.close();
  });

  it("raises the other site's alerts in the same round, and the failed site's in the next", async () => {
    const book = new StatusBook(tdb.db);
    // The site the round meets first is the one that fails, so an aborted round would raise nothing.
    const first = (await book.all())[0].siteId;
    await tdb.db.execute(
      sql.raw(`CREATE FUNCTION refuse_alert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.site_id = '${first}' THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$`),
    );
    await tdb.db.execute(sql.raw('CREATE TRIGGER refuse_alert BEFORE INSERT ON alerts FOR EACH ROW EXECUTE FUNCTION refuse_alert()'));
    const logged: string[] = [];
    const opts = { db: tdb.db, book, fetch: fetch, now: () => new Date(), alerts: { debounceMs: 0 }, log: (l: string) => logged.push(l) };

    const states = await alertRound(opts, null);
    const siteOf = async () => {
      const rows = await tdb.db
        .select({ site: sites.name })
        .from(alerts)
        .innerJoin(sites, sql`${sites.id} = ${alerts.siteId}`);
      return new Set(rows.map((r) => r.site));
    };
    const firstName = (await tdb.db.select({ name: sites.name, id: sites.id }).from(sites)).find((s) => s.id === first)!.name;
    const other = firstName === 'failing' ? 'healthy' : 'failing';
    expect([...(await siteOf())]).toEqual([other]);
    expect(
      logged.filter((l) => l.startsWith(`alerting ${firstName}:`)),
      logged.join('\n'),
    ).toHaveLength(1);

    await tdb.db.execute(sql.raw('DROP TRIGGER refuse_alert ON alerts'));
    const before = (await tdb.db.select().from(alerts)).length;
    await alertRound(opts, states);
    expect([...(await siteOf())].sort()).toEqual(['failing', 'healthy']);
    // The other site's alerts were not raised twice.
    const after = await tdb.db.select().from(alerts);
    expect(after.filter((a) => a.siteId !== first).length).toBe(before);
  }, 60_000);
});
