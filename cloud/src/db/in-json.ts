import { sql, type Column, type SQL } from 'drizzle-orm';

/**
 * `column IN (the values)` with the values as ONE JSON parameter: 1,000 node ids or names as 1,000
 * bound parameters cost drizzle and the driver a parameter object each (a sampled 35–45 ms of a
 * 1,000-row drain), one JSON text costs one. `bigint` compares a bigint column (row ids).
 */
export function inJsonList(column: Column | SQL, values: readonly (string | number)[], as: 'text' | 'bigint' = 'text'): SQL {
  const list = JSON.stringify(values);
  return as === 'bigint'
    ? sql`${column} IN (SELECT jsonb_array_elements_text(${list}::jsonb)::bigint)`
    : sql`${column} IN (SELECT jsonb_array_elements_text(${list}::jsonb))`;
}

/**
 * The ids, each once, as a one-column table `s(id)` from ONE JSON parameter: a statement that
 * reads something per id names it `s.id` (a LATERAL read of each site's newest rows, a subquery
 * per site).
 */
export function idTable(ids: readonly string[]): SQL {
  return sql`(SELECT DISTINCT jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb) AS id) s`;
}
