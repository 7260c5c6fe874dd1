import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { openTestDatabase, type TestDatabase } from '../db/test-db.test-support.ts';
import { events, orgs, sites } from '../db/schema.ts';
import { startRetention } from './retention-loop.ts';

const DAY = 86_400_000;

let d: TestDatabase;
beforeAll(async () => {
  d = await openTestDatabase();
  await d.db.insert(orgs).values({ id: 'o', name: 'o' });
  await d.db.insert(sites).values({ id: 's1', orgId: 'o', name: 'one', currentRevision: 1 });
});
afterAll(async () => {
  await d?.close();
});

const aged = (days: number) => ({
  siteId: 's1',
  nodeId: 's1.d1',
  type: 'apply.succeeded',
  data: { revision: 1 },
  at: new Date(Date.now() - days * DAY),
  receivedAt: new Date(Date.now() - days * DAY),
});

describe('startRetention', () => {
  it('runs a round after its first delay, deletes what is older than the retention and says so', async () => {
    await d.db.insert(events).values([aged(10), aged(8), aged(1)]);
    const lines: string[] = [];
    const r = startRetention({ db: d.db, days: 7, log: (l) => lines.push(l), vacuum: d.kind === 'pglite', firstAfterMs: 0 });
    try {
      await waitFor(() => lines.length > 0, { timeoutMs: 20_000 });
      expect(lines).toEqual(['retention: deleted 2 events and 0 finished webhook deliveries older than 7 days']);
      expect(await d.db.select({ id: events.id }).from(events)).toHaveLength(1);
    } finally {
      await r.close();
    }
  });

  it('logs a round that fails', async () => {
    // A real failure, as a lost connection or a lock timeout would be: the database refuses the delete.
    await d.db.insert(events).values(aged(30));
    await d.db.execute(sql.raw("CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$"));
    await d.db.execute(sql.raw('CREATE TRIGGER refuse_delete BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION refuse_delete()'));
    const lines: string[] = [];
    const r = startRetention({ db: d.db, days: 7, log: (l) => lines.push(l), firstAfterMs: 0 });
    try {
      await waitFor(() => lines.length > 0, { timeoutMs: 20_000 });
      expect(lines).toEqual(['retention: round failed: refused for the test']);
    } finally {
      await r.close();
      await d.db.execute(sql.raw('DROP TRIGGER refuse_delete ON events'));
    }
  });
});
