import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { openDatabase, type Database } from './client.ts';
import { Pipelined } from './pipelined.ts';
import { rowsOf } from './rows.ts';
import { freshPostgres } from '../../test/pg.test-support.ts';

/** A table of the test's own: n unique, seq in the order the rows were inserted. */
const table = (db: Database['db'], name: string) => db.execute(sql.raw(`CREATE TABLE ${name} (n integer PRIMARY KEY, seq bigserial)`));
const insert = (tx: Parameters<Parameters<Database['db']['transaction']>[0]>[0], name: string, n: number) =>
  tx.execute(sql`INSERT INTO ${sql.identifier(name)} (n) VALUES (${n})`);
const stored = async (db: Database['db'], name: string) =>
  rowsOf<{ n: number }>(await db.execute(sql`SELECT n FROM ${sql.identifier(name)} ORDER BY seq`)).map((r) => r.n);

function suite(open: () => Promise<{ database: Database; close: () => Promise<void> }>) {
  let database: Database;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ database, close } = await open());
  });
  afterAll(async () => {
    await close?.();
  });

  it('runs the statements sent without waiting, in sending order, and answers each', async () => {
    await table(database.db, 'pipe_order');
    const answers = await database.db.transaction(async (tx) => {
      const pipe = new Pipelined();
      for (const n of [3, 1, 2]) pipe.send(insert(tx, 'pipe_order', n));
      const count = await pipe.answer(tx.execute(sql`SELECT count(*)::int AS c FROM pipe_order`));
      pipe.send(insert(tx, 'pipe_order', 4));
      await pipe.settle();
      return rowsOf<{ c: number }>(count);
    });
    expect(answers).toEqual([{ c: 3 }]);
    expect(await stored(database.db, 'pipe_order')).toEqual([3, 1, 2, 4]);
  });

  it("throws the first failure sent, not the later statements' refusals of the aborted transaction, and nothing is written", async () => {
    await table(database.db, 'pipe_fail');
    await database.db.execute(sql`INSERT INTO pipe_fail (n) VALUES (7)`);
    const failed = (waitWith: 'settle' | 'answer' | 'wait') =>
      database.db
        .transaction(async (tx) => {
          const pipe = new Pipelined();
          pipe.send(insert(tx, 'pipe_fail', 1));
          // Taken: a unique violation (23505); every statement after it meets an aborted transaction (25P02).
          pipe.send(insert(tx, 'pipe_fail', 7));
          pipe.send(insert(tx, 'pipe_fail', 2));
          if (waitWith === 'answer') await pipe.answer(tx.execute(sql`SELECT count(*) FROM pipe_fail`));
          // A read kept among the others, awaited on its own: it meets the aborted transaction, and the unique violation is thrown.
          if (waitWith === 'wait') await pipe.wait(pipe.kept(tx.execute(sql`SELECT count(*) FROM pipe_fail`)));
          await pipe.settle();
        })
        .then(
          () => null,
          (e: unknown) => e as { code?: string; cause?: { code?: string } },
        );
    for (const how of ['settle', 'answer', 'wait'] as const) {
      const e = await failed(how);
      expect(e, how).not.toBeNull();
      // drizzle wraps the driver's error on PGlite; postgres.js's is thrown as it is.
      expect(e!.code ?? e!.cause?.code, how).toBe('23505');
    }
    expect(await stored(database.db, 'pipe_fail')).toEqual([7]);
  });
}

describe('Pipelined on PGlite', () => {
  suite(async () => {
    const database = await openDatabase({});
    return { database, close: () => database.close() };
  });
});

describe.skipIf(!process.env.DATABASE_URL)('Pipelined on PostgreSQL', () => {
  suite(async () => {
    const pg = await freshPostgres(process.env.DATABASE_URL!);
    const database = await openDatabase({ url: pg.url });
    return {
      database,
      close: async () => {
        await database.close();
        await pg.drop();
      },
    };
  });

  it('a statement sent, once flushed, runs in the database while this process is busy with something else', async () => {
    const pg = await freshPostgres(process.env.DATABASE_URL!);
    const database = await openDatabase({ url: pg.url });
    try {
      const { startedMs, busyFromMs, busyToMs } = await database.db.transaction(async (tx) => {
        await tx.execute(sql`SELECT 1`); // the transaction's connection is open and idle
        const pipe = new Pipelined();
        const at = pipe.kept(tx.execute(sql`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms`));
        await Pipelined.flushed();
        // Synchronous work, as the apply's building of the outbox rows: nothing else runs in this process meanwhile.
        const busyFromMs = Date.now();
        while (Date.now() - busyFromMs < 300);
        const busyToMs = Date.now();
        await pipe.settle();
        return { startedMs: rowsOf<{ ms: number }>(await at)[0].ms, busyFromMs, busyToMs };
      });
      // The database ran it during the busy loop (the same machine's clock), not after it.
      expect(startedMs).toBeLessThan(busyToMs - 100);
      expect(startedMs).toBeGreaterThan(busyFromMs - 1000);
    } finally {
      await database.close();
      await pg.drop();
    }
  });
});
