import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES, SEVERITIES } from '#shared/wire/events.ts';
import { events, orgs, sites, type webhooks } from '../db/schema.ts';
import { openTestDatabase, type TestDatabase } from '../db/test-db.test-support.ts';
import { alertOf, wants } from './payload.ts';
import { walkFilter } from './walk-filter.ts';

type Hook = Pick<typeof webhooks.$inferSelect, 'orgId' | 'siteName' | 'eventTypes' | 'minSeverity'>;

/** Types whose severity `walkFilter` knows; the others it lets through for `wants` to judge. */
const COVERED = [...EVENT_TYPES, ...EVENT_TYPES.map((t) => `${t}.resolved`)];
/** A type no table names, one that does not exist yet, and one `wants` finds on Object's prototype (`in`). */
const UNCOVERED = ['made.up', 'made.up.resolved', 'constructor'];

/** What a condition's copy, an agent's event or a stray one may carry: a key or not, a stamp valid or not. */
const DATA: Record<string, unknown>[] = [
  {},
  { key: 'k' },
  ...SEVERITIES.map((severity) => ({ key: 'k', severity })),
  { severity: 'critical' },
  { key: 'k', severity: 'loud' },
  { key: 7, severity: 2 },
  { key: 'k', severity: { level: 'critical' } },
];

/**
 * Every event type × data × site against a table of webhooks: the SQL pre-filter must read every
 * row `wants` (with the org check) takes, and, for the types it covers, no other.
 */
describe('walkFilter agrees with wants', () => {
  let tdb: TestDatabase;
  /** Every row with its alert and org, read once: what the queue judged in JS before the filter. */
  let all: { id: number; type: string; orgId: string | null; alert: ReturnType<typeof alertOf> }[];
  beforeAll(async () => {
    tdb = await openTestDatabase();
    const { db } = tdb;
    await db.insert(orgs).values([
      { id: 'o', name: 'o' },
      { id: 'o2', name: 'o2' },
    ]);
    await db.insert(sites).values([
      { id: 's1', orgId: 'o', name: 'bj-dc1', currentRevision: 1 },
      { id: 's2', orgId: 'o', name: 'sh-dc2', currentRevision: 1 },
      // Another org's site of the same name: a site filter alone would let its events through.
      { id: 's3', orgId: 'o2', name: 'bj-dc1', currentRevision: 1 },
    ]);
    const rows = [...COVERED, ...UNCOVERED].flatMap((type) =>
      DATA.flatMap((data) => ['s1', 's2', 's3', null].map((siteId) => ({ siteId, nodeId: 'n', type, data, at: new Date('2026-01-01T00:00:00Z') }))),
    );
    for (let i = 0; i < rows.length; i += 1000) await db.insert(events).values(rows.slice(i, i + 1000));
    const read = await db.select({ e: events, siteName: sites.name, orgId: sites.orgId }).from(events).leftJoin(sites, eq(sites.id, events.siteId));
    all = read.map(({ e, siteName, orgId }) => ({ id: e.id, type: e.type, orgId, alert: alertOf(e, siteName) }));
  });
  afterAll(async () => {
    await tdb?.close();
  });

  const HOOKS: Hook[] = SEVERITIES.flatMap((minSeverity) =>
    [null, 'bj-dc1', 'nowhere'].flatMap((siteName) =>
      [[], ['apply.succeeded', 'site.split_brain', 'node.offline.resolved', 'made.up'], ['vrrp.transition']].flatMap((eventTypes) => [
        { orgId: 'o', siteName, eventTypes, minSeverity },
        { orgId: 'o2', siteName, eventTypes, minSeverity },
      ]),
    ),
  );

  it.each(HOOKS.map((hook) => [JSON.stringify(hook), hook] as const))('%s', async (_, hook) => {
    const { db } = tdb;
    const wanted = all.filter((r) => r.orgId === hook.orgId && wants(hook, r.alert)).map((r) => r.id);
    const read = (await db.select({ id: events.id }).from(events).innerJoin(sites, eq(sites.id, events.siteId)).where(walkFilter(hook))).map((r) => r.id);
    const readSet = new Set(read);
    expect(wanted.filter((id) => !readSet.has(id))).toEqual([]);
    const covered = new Set(all.filter((r) => COVERED.includes(r.type)).map((r) => r.id));
    expect(read.filter((id) => covered.has(id)).sort((a, b) => a - b)).toEqual(wanted.filter((id) => covered.has(id)).sort((a, b) => a - b));
  });

  it('the table is not idle: the filter keeps most rows out, lets some through, and lets uncovered types through to wants', async () => {
    const { db } = tdb;
    const total = all.length;
    const count = async (hook: Hook) =>
      (await db.select({ id: events.id }).from(events).innerJoin(sites, eq(sites.id, events.siteId)).where(walkFilter(hook))).length;
    const critical: Hook = { orgId: 'o', siteName: 'bj-dc1', eventTypes: [], minSeverity: 'critical' };
    const n = await count(critical);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(total / 10);
    // `made.up` without a stamp is info to `wants`, but no table says so: read, then refused in JS.
    const madeUp = await db
      .select({ e: events, siteName: sites.name })
      .from(events)
      .innerJoin(sites, eq(sites.id, events.siteId))
      .where(walkFilter({ ...critical, eventTypes: ['made.up'] }));
    expect(madeUp.some(({ e, siteName }) => !wants(critical, alertOf(e, siteName)))).toBe(true);
  });
});
