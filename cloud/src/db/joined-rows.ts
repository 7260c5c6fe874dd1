import { sql, type SQL } from 'drizzle-orm';

/**
 * The ASCII record separator (chr(30)): JSON text never holds it (its grammar escapes every control
 * character inside a string and allows none outside one but whitespace), nor does a validated name,
 * address or hex hash.
 */
const SEPARATOR = '\x1e';

/** A column's SQL type after the split (text as split; json is checked by its cast). */
export type JoinedType = 'text' | 'json';

/**
 * Many rows as a relation `x(columns…)` from ONE text parameter per column: each column's values
 * joined by the record separator, split by the database (string_to_array) and zipped back into rows
 * (unnest). 1,000 rows bound one value each cost drizzle and the driver a parameter object per
 * value; one JSON array of row objects (json[b]_to_recordset) makes the database parse every value
 * twice, once to check the parameter and once to take the records apart, which for a 1,000-node
 * site's 2.3 MB of outbox claims was about half of that statement's time. Here a json column's
 * values are each parsed once, by a cast of each row's value (casting the split array to json[]
 * took the database about half as long again as the rows' own casts). Every column has one value
 * per row; a value that holds the separator would shift the rows after it onto the wrong row, so it
 * is refused (only a bug could put one there).
 */
export function joinedRows(columns: Record<string, { type?: JoinedType; values: readonly string[] }>): SQL {
  const entries = Object.entries(columns);
  const rows = entries[0]?.[1].values.length ?? 0;
  if (!rows) throw new Error('joinedRows: no rows');
  // Names are written into the statement as they are: only plain lowercase SQL names.
  for (const [name] of entries)
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`joinedRows: column name ${JSON.stringify(name)} is not a plain SQL name`);
  const arrays = entries.map(([name, { values }]) => {
    if (values.length !== rows) throw new Error(`joinedRows: column ${name} has ${values.length} values for ${rows} rows`);
    const text = values.join(SEPARATOR);
    if (separators(text) !== rows - 1) throw new Error(`joinedRows: a value of column ${name} holds the record separator`);
    // string_to_array('') is the empty array, not one empty text: a single row is bound as it is.
    return rows === 1 ? sql`ARRAY[${text}::text]` : sql`string_to_array(${text}::text, chr(30))`;
  });
  // Each column as u.cN, cast row by row where it is json, under its own name.
  const selected = entries.map(([name, { type = 'text' }], i) => sql.raw(`u.c${i}${type === 'json' ? '::json' : ''} AS ${name}`));
  const split = entries.map((_, i) => `c${i}`).join(', ');
  return sql`(SELECT ${sql.join(selected, sql`, `)} FROM unnest(${sql.join(arrays, sql`, `)}) AS u(${sql.raw(split)})) AS x`;
}

/** How many separators `text` holds (indexOf scans for one character as fast as the engine can). */
function separators(text: string): number {
  let n = 0;
  for (let i = text.indexOf(SEPARATOR); i >= 0; i = text.indexOf(SEPARATOR, i + 1)) n++;
  return n;
}
