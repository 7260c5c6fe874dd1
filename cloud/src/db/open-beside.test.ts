import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { openBeside, openDatabase, type Database } from './client.ts';
import { rowsOf } from './rows.ts';
import { orgs } from './schema.ts';
import { freshPostgres } from '../../test/pg.test-support.ts';

describe('openBeside on PGlite', () => {
  it('is the same database (one connection in this process), and its close leaves that open', async () => {
    const database = await openDatabase({});
    try {
      const beside = await openBeside(database, { poolSize: 1, name: 'lvsfleet-test-beside' });
      expect(beside.db).toBe(database.db);
      await beside.close();
      expect(rowsOf(await database.db.execute(sql`SELECT 1 AS one`))).toEqual([{ one: 1 }]);
    } finally {
      await database.close();
    }
  });
});

// Pools and sessions are PostgreSQL's: PGlite has one connection and nothing to wait for.
describe.skipIf(!process.env.DATABASE_URL)('openBeside on PostgreSQL', () => {
  let pg: Awaited<ReturnType<typeof freshPostgres>>;
  let database: Database;
  beforeAll(async () => {
    pg = await freshPostgres(process.env.DATABASE_URL!);
    database = await openDatabase({ url: pg.url, poolSize: 2 });
  });
  afterAll(async () => {
    await database?.close();
    await pg?.drop();
  });

  it("runs its statements while every connection of the first client's pool is held in a transaction, in a session of its name", async () => {
    const name = `lvsfleet-test-beside-${process.pid}`;
    const beside = await openBeside(database, { poolSize: 1, name });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let entered = 0;
    // Both of the first client's connections, each in a transaction that waits for the test.
    const held = [1, 2].map(() =>
      database.db.transaction(async (tx) => {
        await tx.execute(sql`SELECT 1`);
        entered++;
        await released;
      }),
    );
    try {
      while (entered < 2) await new Promise((r) => setTimeout(r, 10));
      // The first client has no connection left: its statement waits for a transaction to end.
      let queuedDone = false;
      const queued = database.db.execute(sql`SELECT 1`).then(() => (queuedDone = true));
      // The other client's statements run meanwhile, and it wrote through its own session.
      const wrote = beside.db.insert(orgs).values({ id: 'beside-org', name: 'beside' });
      const waited = new Promise((_, reject) => setTimeout(() => reject(new Error("the other client's statement waited for the first client's pool")), 10_000));
      await Promise.race([wrote, waited]);
      const sessions = rowsOf(
        await beside.db.execute(sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${name} AND datname = current_database()`),
      );
      expect(sessions).toEqual([{ n: 1 }]);
      expect(queuedDone).toBe(false);
      release();
      await Promise.all(held);
      await queued;
      expect(rowsOf(await database.db.execute(sql`SELECT name FROM orgs WHERE id = 'beside-org'`))).toEqual([{ name: 'beside' }]);
    } finally {
      release();
      await Promise.allSettled(held);
      await beside.close();
    }
  });
});
