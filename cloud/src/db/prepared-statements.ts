import type { Sql } from 'postgres';

/**
 * Statements with more parameters than this stay unnamed. A prepared statement is kept by its
 * connection (postgres.js's cache and the server's) for the connection's life, one per distinct
 * text: statements whose text grows with their input (`IN ($1, …, $n)`, a multi-row VALUES) would
 * otherwise each add one per size. The bulk statements pass their rows as one jsonb parameter.
 */
export const MAX_PREPARED_PARAMS = 32;

type Unsafe = Sql['unsafe'];
type Callback = (sql: Sql) => unknown;

/**
 * The postgres.js client drizzle is given, with its statements prepared. drizzle asks for an unnamed
 * statement for every query not built with `.prepare()`, and postgres.js runs an unnamed statement
 * that has parameters in two round trips: Parse and Describe, then, once the server has answered
 * the parameters' types, Bind and Execute. A prepared statement is described once per connection
 * and then runs in one round trip. Transactions (`begin`) and savepoints hand drizzle a client of
 * their own, wrapped the same way. A DATABASE_URL with `?prepare=false` (a pooler that cannot keep
 * prepared statements) still turns preparing off: postgres.js checks its own option first.
 */
export function preparedStatements(sql: Sql, maxParams = MAX_PREPARED_PARAMS): Sql {
  // Made once per client, not at every query. A client outside a transaction has no `savepoint`.
  const own = new Map<PropertyKey, unknown>([
    ['unsafe', preparedUnsafe(sql, maxParams)],
    ['begin', wrapScope(sql, 'begin', maxParams)],
    ['savepoint', wrapScope(sql, 'savepoint', maxParams)],
  ]);
  return new Proxy(sql, {
    get(target, prop, receiver) {
      if (own.has(prop)) return own.get(prop);
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** `unsafe` asking for a prepared statement when the query has parameters, and not too many. */
function preparedUnsafe(target: Sql, maxParams: number): Unsafe {
  return ((query: string, params?: unknown[], options?: { prepare?: boolean }) => {
    // Without parameters postgres.js uses the simple protocol (one round trip, several statements allowed): left as it is.
    const prepare = options?.prepare || (Array.isArray(params) && params.length > 0 && params.length <= maxParams);
    return target.unsafe(query, params as never, { ...options, prepare });
  }) as Unsafe;
}

/** `begin` or `savepoint`, giving the callback (its last argument) a wrapped client. */
function wrapScope(target: Sql, prop: 'begin' | 'savepoint', maxParams: number) {
  const real = (target as unknown as Record<typeof prop, (...args: unknown[]) => unknown>)[prop];
  if (typeof real !== 'function') return real;
  return (...args: unknown[]) => {
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const fn = args[last] as Callback;
      args[last] = (scoped: Sql) => fn(preparedStatements(scoped, maxParams));
    }
    return real.apply(target, args);
  };
}
