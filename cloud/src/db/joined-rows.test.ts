import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { joinedRows } from './joined-rows.ts';
import { rowsOf } from './rows.ts';
import { openTestDatabase, type TestDatabase } from './test-db.test-support.ts';

// On PostgreSQL when DATABASE_URL is set, on PGlite otherwise (test-db.test-support.ts).
describe('joinedRows', () => {
  let d: TestDatabase;
  beforeAll(async () => {
    d = await openTestDatabase();
  });
  afterAll(async () => {
    await d?.close();
  });

  const select = async (relation: ReturnType<typeof joinedRows>) =>
    rowsOf<{ id: string; doc: unknown; n: string }>(await d.db.execute(sql`SELECT x.* FROM ${relation}`));

  it('gives back every row in order, each value on its own row, JSON parsed, empty texts and any other character as they were', async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `site.rs${i}`);
    const docs = ids.map((id, i) => JSON.stringify({ id, i, text: i % 7 ? `a\tb\n"c"\\ ✓ \u001e` : '', nested: { list: [i, null, true] } }));
    const ns = ids.map((_, i) => (i % 3 ? `${i}` : ''));
    const rows = await select(joinedRows({ id: { values: ids }, doc: { type: 'json', values: docs }, n: { values: ns } }));
    expect(rows.map((r) => r.id)).toEqual(ids);
    expect(rows.map((r) => (typeof r.doc === 'string' ? JSON.parse(r.doc) : r.doc))).toEqual(docs.map((t) => JSON.parse(t)));
    expect(rows.map((r) => r.n)).toEqual(ns);
  });

  it('gives back a single row, an empty text in it included', async () => {
    expect(await select(joinedRows({ id: { values: [''] }, doc: { type: 'json', values: ['[]'] }, n: { values: ['x'] } }))).toEqual([
      { id: '', doc: expect.anything(), n: 'x' },
    ]);
    const rows = await select(joinedRows({ id: { values: ['', ''] }, doc: { type: 'json', values: ['1', '2'] }, n: { values: ['', 'y'] } }));
    expect(rows.map((r) => [r.id, r.n])).toEqual([
      ['', ''],
      ['', 'y'],
    ]);
  });

  it('refuses a value holding the separator, columns of different lengths, no rows and a column name that is not a plain SQL name, before any statement', () => {
    expect(() => joinedRows({ id: { values: ['a', 'b\u001ec'] } })).toThrow(/column id holds the record separator/);
    expect(() => joinedRows({ id: { values: ['a', 'b'] }, n: { values: ['1'] } })).toThrow(/column n has 1 values for 2 rows/);
    expect(() => joinedRows({ id: { values: [] } })).toThrow(/no rows/);
    expect(() => joinedRows({ 'id) AS x; DROP TABLE nodes; --': { values: ['a'] } })).toThrow(/not a plain SQL name/);
  });

  it('lets the database refuse a value that is not JSON in a json column', async () => {
    await expect(
      select(joinedRows({ id: { values: ['a', 'b'] }, doc: { type: 'json', values: ['{}', '{"open":'] }, n: { values: ['1', '2'] } })),
    ).rejects.toThrow(/json/i);
  });
});
