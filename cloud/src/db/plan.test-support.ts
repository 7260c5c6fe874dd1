import { sql } from 'drizzle-orm';
import type { Db } from './client.ts';
import { rowsOf } from './rows.ts';

/**
 * PostgreSQL's plan for `query` as a prepared statement settles on it after its first runs (its
 * parameters unknown when it is planned), with sequential scans ruled out: an index the plan names
 * is one the query, as written, can use.
 */
export async function genericPlan(db: Db, query: { toSQL(): { sql: string; params: unknown[] } }): Promise<string> {
  const { sql: text, params } = query.toSQL();
  const literal = (v: unknown) => `'${String(v).replace(/'/g, "''")}'`;
  return db.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL enable_seqscan = off`);
    await tx.execute(sql`SET LOCAL plan_cache_mode = force_generic_plan`);
    await tx.execute(sql.raw(`PREPARE plan_under_test AS ${text}`));
    const args = params.length ? `(${params.map(literal).join(', ')})` : '';
    const rows = rowsOf<{ 'QUERY PLAN': string }>(await tx.execute(sql.raw(`EXPLAIN EXECUTE plan_under_test${args}`)));
    await tx.execute(sql.raw('DEALLOCATE plan_under_test'));
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  });
}
