import { getTableName, is, sql } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import { openDatabase, type Database } from './client.ts';
import * as schema from './schema.ts';

/**
 * A database for one test file: PostgreSQL when DATABASE_URL is set (a fresh database created
 * beside the one DATABASE_URL names, dropped at close, so parallel runs never collide), otherwise
 * one in-memory PGlite (a fresh PGlite costs seconds: share it per file, truncate between tests).
 */
export interface TestDatabase extends Database {
  /** Empties every table (identities restart), for a clean slate between tests. */
  truncate(): Promise<void>;
  /** The postgres:// URL of the per-file database, when on PostgreSQL. */
  url?: string;
}

/** Every table of the schema (tables added later are picked up by themselves). */
const TABLES = (Object.values(schema) as unknown[]).filter((v): v is PgTable => is(v, PgTable)).map((t) => `"${getTableName(t)}"`);

export async function openTestDatabase(env: Record<string, string | undefined> = process.env): Promise<TestDatabase> {
  const base = env.DATABASE_URL;
  if (!base) {
    const db = await openDatabase({});
    return { ...db, truncate: () => truncateAll(db) };
  }
  const { default: postgres } = await import('postgres');
  // LVSFLEET_TEST_DB_PREFIX: where several people share the server, each run's databases carry their own prefix.
  const prefix = /^[a-z_][a-z0-9_]{0,30}$/.test(env.LVSFLEET_TEST_DB_PREFIX ?? '') ? env.LVSFLEET_TEST_DB_PREFIX : 'lvsfleet_t_';
  const name = `${prefix}${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const db = await openDatabase({ url: url.toString() });
  return {
    ...db,
    url: url.toString(),
    truncate: () => truncateAll(db),
    async close() {
      await db.close();
      try {
        await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end({ timeout: 5 });
      }
    },
  };
}

async function truncateAll(db: Database): Promise<void> {
  await db.db.execute(sql.raw(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY CASCADE`));
}
