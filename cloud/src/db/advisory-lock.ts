import type { Sql } from 'postgres';

/**
 * PostgreSQL session-level advisory locks, keyed by two int4 (`pg_advisory_lock(int, int)`):
 * the first names what is locked (one namespace per use below), the second which one of them.
 * A session lock lives as long as the connection that took it, so a replica that dies (its
 * socket closes) loses its locks with no clean-up and no expiry to tune.
 */
export const LOCK_NAMESPACE = {
  /** Applying migrations/ (second key 0): one replica at a time. */
  migrations: 0x6c76_0001,
  /** Publishing one site's outbox (second key: leaseKey(siteId)). */
  sitePublisher: 0x6c76_0002,
  /** Writing one site's state history (second key: leaseKey(siteId)); a transaction lock, held for one write. */
  statusHistory: 0x6c76_0003,
  /** Making the bootstrap admin token (second key 0): replicas starting at once make it once. */
  bootstrap: 0x6c76_0004,
} as const;

/**
 * Runs `fn` while this process holds the advisory lock (ns, key), waiting for it as long as
 * another session holds it. The lock is taken on a connection reserved for it, so `fn` may use
 * the pool freely; it is released (and the connection given back) however `fn` ends.
 */
export async function withAdvisoryLock<T>(client: Sql, ns: number, key: number, fn: () => Promise<T>): Promise<T> {
  const conn = await client.reserve();
  try {
    await conn`SELECT pg_advisory_lock(${ns}::int, ${key}::int)`;
    try {
      return await fn();
    } finally {
      await conn`SELECT pg_advisory_unlock(${ns}::int, ${key}::int)`;
    }
  } finally {
    conn.release();
  }
}
