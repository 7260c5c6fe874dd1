import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type SQL } from 'drizzle-orm';
import { openDatabase, type Database } from './client.ts';
import { MAX_PREPARED_PARAMS } from './prepared-statements.ts';
import { freshPostgres } from '../../test/pg.test-support.ts';

type Executor = { execute(q: SQL): Promise<unknown> };

/** The test's statements this session (connection) holds prepared (it may have run the migrations' too), by their text. */
async function preparedHere(x: Executor): Promise<string[]> {
  const rows = (await x.execute(sql`SELECT statement FROM pg_prepared_statements ORDER BY statement`)) as unknown as { statement: string }[];
  return [...rows].map((r) => r.statement).filter((s) => s.endsWith(' AS total'));
}

/** `SELECT $1::int + … + $n::int AS total` through drizzle: n parameters. */
const sumOf = (values: number[]) =>
  sql`SELECT ${sql.join(
    values.map((v) => sql`${v}::int`),
    sql` + `,
  )} AS total`;

const totalOf = async (x: Executor, values: number[]) => ((await x.execute(sumOf(values))) as unknown as { total: number }[])[0].total;

// Prepared statements live in a PostgreSQL session, which PGlite's driver does not go through.
describe.skipIf(!process.env.DATABASE_URL)('statements drizzle runs on PostgreSQL', () => {
  let pg: Awaited<ReturnType<typeof freshPostgres>>;
  let database: Database;
  beforeAll(async () => {
    pg = await freshPostgres(process.env.DATABASE_URL!);
    database = await openDatabase({ url: pg.url });
  });
  afterAll(async () => {
    await database?.close();
    await pg?.drop();
  });

  it('are prepared once per connection and run again with new parameters, in a transaction and a savepoint', async () => {
    await database.db.transaction(async (tx) => {
      expect(await totalOf(tx, [1, 2])).toBe(3);
      expect(await totalOf(tx, [40, 2])).toBe(42);
      expect(await preparedHere(tx)).toEqual(['SELECT $1::int + $2::int AS total']);
      await tx.transaction(async (inner) => {
        expect(await totalOf(inner, [1, 2, 3])).toBe(6);
      });
      expect(await preparedHere(tx)).toEqual(['SELECT $1::int + $2::int + $3::int AS total', 'SELECT $1::int + $2::int AS total']);
    });
  });

  it(`stay unnamed with more than ${MAX_PREPARED_PARAMS} parameters (a text that grows with its input is not kept)`, async () => {
    await database.db.transaction(async (tx) => {
      const many = Array.from({ length: MAX_PREPARED_PARAMS + 1 }, (_, i) => i);
      expect(await totalOf(tx, many)).toBe(((MAX_PREPARED_PARAMS + 1) * MAX_PREPARED_PARAMS) / 2);
      expect((await preparedHere(tx)).filter((s) => s.includes(`$${MAX_PREPARED_PARAMS + 1}`))).toEqual([]);
    });
  });

  it('are never prepared with ?prepare=false in the URL (a pooler that cannot keep them)', async () => {
    const url = new URL(pg.url);
    url.searchParams.set('prepare', 'false');
    const plain = await openDatabase({ url: url.toString(), migrate: false });
    try {
      await plain.db.transaction(async (tx) => {
        expect(await totalOf(tx, [1, 2])).toBe(3);
        expect(await totalOf(tx, [2, 3])).toBe(5);
        expect(await preparedHere(tx)).toEqual([]);
      });
    } finally {
      await plain.close();
    }
  });
});
