import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import { openTestDatabase, type TestDatabase } from '../db/test-db.test-support.ts';
import { nodes, orgs, outbox, sites, type OutboxStatus } from '../db/schema.ts';
import { lastPublished, latestPublishedRows, markFailed, nextDueInMs, pendingForDueNodes, pruneSuperseded } from './outbox-store.ts';

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

describe('due on the database clock', () => {
  beforeEach(async () => {
    await d.truncate();
  });

  it('reads a row as due right after the insert that wrote it, every time', async () => {
    // Due at the column's default, the database's now(): judged on this process's clock, a read
    // within the same millisecond passed the row over (on PostgreSQL: PGlite's clock showed no such gap).
    // A node of its own each time: no open row before it makes the node due.
    const names = Array.from({ length: 20 }, (_, i) => `s.n${i}`);
    await given(names.map((n): Row => [n, 1, 0, 'published']));
    for (const nodeId of names) {
      const [row] = await d.db
        .insert(outbox)
        .values({ nodeId, siteId: 's', revision: 2, claims: { revision: 2 } })
        .returning();
      const read = await pendingForDueNodes(d.db, 100);
      expect(read.rows.map((r) => r.id)).toEqual([row.id]);
      expect(read.now.getTime()).toBeGreaterThanOrEqual(row.nextAttemptAt.getTime());
      await d.db.update(outbox).set({ status: 'published' }).where(eq(outbox.id, row.id));
    }
  });

  it("reads a row as due whatever this process's clock says: a minute behind the database's", async () => {
    // As a replica's or a Worker's clock may be off. (On PostgreSQL: PGlite's clock is this
    // process's, and moves with it.)
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() - 60_000);
      await given([['s.a', 1, 0, 'pending']]);
      expect((await pendingForDueNodes(d.db, 100)).rows.map((r) => r.nodeId)).toEqual(['s.a']);
    } finally {
      vi.useRealTimers();
    }
  });

  it("holds a failed row for its back-off on the database's clock, and says how long is left", async () => {
    await given([['s.a', 1, 0, 'pending']]);
    const [row] = await d.db.select().from(outbox);
    expect(await nextDueInMs(d.db, 's')).toBe(0);
    await markFailed(d.db, row.id, 1, 60_000, 'broker unreachable');
    expect((await pendingForDueNodes(d.db, 100)).rows).toEqual([]);
    const left = await nextDueInMs(d.db, 's');
    expect(left).toBeGreaterThan(55_000);
    expect(left).toBeLessThanOrEqual(60_000);
    const [failed] = await d.db.select().from(outbox);
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, lastError: 'broker unreachable' });
    await markFailed(d.db, row.id, 2, 0, 'broker unreachable');
    expect((await pendingForDueNodes(d.db, 100)).rows.map((r) => [r.id, r.attempts])).toEqual([[row.id, 2]]);
    expect(await nextDueInMs(d.db, 's')).toBe(0);
    expect(await nextDueInMs(d.db, 't')).toBeNull();
  });
});
