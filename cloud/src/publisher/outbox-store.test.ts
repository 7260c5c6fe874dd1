import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { asc } from 'drizzle-orm';
import { openTestDatabase, type TestDatabase } from '../db/test-db.test-support.ts';
import { nodes, orgs, outbox, sites, type OutboxStatus } from '../db/schema.ts';
import { lastPublished, latestPublishedRows, pruneSuperseded } from './outbox-store.ts';

let d: TestDatabase;
beforeAll(async () => {
  d = await openTestDatabase();
});
afterAll(async () => {
  await d?.close();
});

/** Rows as [node, revision, overrides version, status], inserted in this order (ids rise with it). */
type Row = [node: string, revision: number, overridesVersion: number, status: OutboxStatus];

async function given(rows: Row[]): Promise<void> {
  await d.db.insert(orgs).values({ id: 'o', name: 'o' });
  await d.db.insert(sites).values([
    { id: 's', orgId: 'o', name: 's' },
    { id: 't', orgId: 'o', name: 't' },
  ]);
  const ids = [...new Set(rows.map((r) => r[0]))];
  await d.db
    .insert(nodes)
    .values(ids.map((id) => ({ id, siteId: id.split('.')[0], name: id.split('.')[1], role: 'realserver' as const, address: '10.0.0.1' })));
  for (const [nodeId, revision, overridesVersion, status] of rows)
    await d.db.insert(outbox).values({ nodeId, siteId: nodeId.split('.')[0], revision, overridesVersion, status, claims: { revision } });
}

const left = async () => (await d.db.select().from(outbox).orderBy(asc(outbox.id))).map((r) => [r.nodeId, r.revision, r.overridesVersion, r.status] as Row);

describe('pruneSuperseded', () => {
  beforeEach(async () => {
    await d.truncate();
  });

  it("deletes what a node's newest published revision superseded, and nothing any reader still needs", async () => {
    await given([
      ['s.a', 1, 0, 'published'],
      ['s.a', 2, 0, 'skipped'],
      ['s.a', 3, 0, 'published'],
      ['s.a', 3, 1, 'published'], // the same revision with newer overrides: the status dates the revision by the first
      ['s.a', 4, 0, 'held'], // a staged rollout's: its node still runs 3, what a withhold points back at
      ['s.b', 1, 0, 'published'],
      ['s.b', 2, 0, 'failed'], // open: not superseded until something newer is published
      ['s.c', 1, 0, 'skipped'], // nothing published to c yet: its rows say why
      ['s.c', 2, 0, 'pending'],
      ['t.a', 5, 0, 'published'],
      ['t.a', 6, 0, 'published'],
    ]);
    const before = await latestPublishedRows(d.db);
    const floors = await lastPublished(d.db, ['s.a', 's.b', 's.c', 't.a']);

    expect(await pruneSuperseded(d.db, 100)).toBe(3);
    expect(await left()).toEqual([
      ['s.a', 3, 0, 'published'],
      ['s.a', 3, 1, 'published'],
      ['s.a', 4, 0, 'held'],
      ['s.b', 1, 0, 'published'],
      ['s.b', 2, 0, 'failed'],
      ['s.c', 1, 0, 'skipped'],
      ['s.c', 2, 0, 'pending'],
      ['t.a', 6, 0, 'published'],
    ]);
    // What the publisher reads is the same with or without the deleted rows.
    expect(await latestPublishedRows(d.db)).toEqual(before);
    expect(await lastPublished(d.db, ['s.a', 's.b', 's.c', 't.a'])).toEqual(floors);
    expect(await pruneSuperseded(d.db, 100)).toBe(0);
  });

  it('deletes at most `limit` rows a call, and only of the sites named', async () => {
    await given([
      ['s.a', 1, 0, 'published'],
      ['s.a', 2, 0, 'published'],
      ['s.a', 3, 0, 'published'],
      ['t.a', 1, 0, 'published'],
      ['t.a', 2, 0, 'published'],
    ]);
    expect(await pruneSuperseded(d.db, 100, [])).toBe(0);
    expect(await pruneSuperseded(d.db, 1, ['s'])).toBe(1);
    expect(await pruneSuperseded(d.db, 100, ['s'])).toBe(1);
    expect(await left()).toEqual([
      ['s.a', 3, 0, 'published'],
      ['t.a', 1, 0, 'published'],
      ['t.a', 2, 0, 'published'],
    ]);
    expect(await pruneSuperseded(d.db, 100)).toBe(1);
    expect(await left()).toEqual([
      ['s.a', 3, 0, 'published'],
      ['t.a', 2, 0, 'published'],
    ]);
  });
});
