import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genericPlan } from '../db/plan.test-support.ts';
import { openTestDatabase, type TestDatabase } from '../db/test-db.test-support.ts';
import { events, orgs, sites } from '../db/schema.ts';
import { becameMasterCounts } from './fleet-facts.ts';

let d: TestDatabase;
beforeAll(async () => {
  d = await openTestDatabase();
  await d.db.insert(orgs).values({ id: 'o', name: 'o' });
  await d.db.insert(sites).values([
    { id: 's1', orgId: 'o', name: 'one', currentRevision: 1 },
    { id: 's2', orgId: 'o', name: 'two', currentRevision: 1 },
  ]);
});
afterAll(async () => {
  await d?.close();
});

const transition = (siteId: string, instance: string, to: string) => ({
  siteId,
  nodeId: `${siteId}.d1`,
  type: 'vrrp.transition',
  data: { instance, from: 'BACKUP', to, reason: 'test' },
  at: new Date(),
});

describe('becameMasterCounts', () => {
  it('counts transitions to MASTER per site and instance, and nothing else', async () => {
    await d.db
      .insert(events)
      .values([
        transition('s1', 'VI_1', 'MASTER'),
        transition('s1', 'VI_1', 'MASTER'),
        transition('s1', 'VI_1', 'BACKUP'),
        transition('s1', 'VI_2', 'MASTER'),
        transition('s2', 'VI_1', 'FAULT'),
        { siteId: 's2', nodeId: 's2.d1', type: 'apply.succeeded', data: { revision: 1, to: 'MASTER' }, at: new Date() },
      ]);
    const counts = (await becameMasterCounts(d.db)).map((r) => ({ ...r, n: Number(r.n) }));
    expect(counts.sort((a, b) => `${a.site}/${a.instance}`.localeCompare(`${b.site}/${b.instance}`))).toEqual([
      { site: 'one', instance: 'VI_1', n: 2 },
      { site: 'one', instance: 'VI_2', n: 1 },
    ]);
  });

  it('is answered by the partial index of MASTER transitions (no scan of every event at each scrape)', async () => {
    expect(await genericPlan(d.db, becameMasterCounts(d.db))).toMatch(/events_became_master/);
  });
});
