import { fileURLToPath } from 'node:url';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Sql } from 'postgres';
import type { PGlite } from '@electric-sql/pglite';
import * as schema from './schema.ts';
import { LOCK_NAMESPACE, withAdvisoryLock } from './advisory-lock.ts';
import { preparedStatements } from './prepared-statements.ts';
import { copyTemplateDataDir, pgliteStartParams, readTemplate, TEMPLATE_DIR } from './pglite-template.ts';

/** Either engine behind one drizzle type: PGlite (embedded default) or PostgreSQL (postgres.js). */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** The postgres.js client under `db` (PostgreSQL only), for session-level advisory locks. */
  pg?: Sql;
  /** The server's URL (PostgreSQL only): another client of the same database opens it (`openBeside`). */
  url?: string;
  /** The PGlite instance itself (the workerd tests serve it over the PostgreSQL wire protocol). */
  pglite?: PGlite;
  close(): Promise<void>;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));

/**
 * Opens the database and applies migrations/ (the same SQL on both engines).
 * `url` (postgres://…) selects PostgreSQL; otherwise PGlite in `dataDir`, or in memory when
 * dataDir is undefined (tests). A new PGlite database starts from the pre-initialised template
 * in `templateDir` when there is one for these migrations (`./pglite-template.ts`; false: always
 * initdb), and is migrated from there as usual.
 */
export async function openDatabase(opts: {
  url?: string;
  dataDir?: string;
  migrate?: boolean;
  templateDir?: string | false;
  /** PostgreSQL: connections in the client's pool (default 5). */
  poolSize?: number;
  /** PostgreSQL: the sessions' application_name, which pg_stat_activity shows. */
  name?: string;
  /** Called at the end of each stage of the opening (a start profile). */
  mark?: (stage: string) => void;
}): Promise<Database> {
  const migrate = opts.migrate ?? true;
  const mark = opts.mark ?? (() => {});
  if (opts.url) {
    const { default: postgres } = await import('postgres');
    const { drizzle } = await import('drizzle-orm/postgres-js');
    const client = postgres(opts.url, {
      max: opts.poolSize ?? 5,
      onnotice: () => {},
      ...(opts.name ? { connection: { application_name: opts.name } } : {}),
    });
    const db = drizzle(preparedStatements(client), { schema }) as unknown as Db;
    const database: Database = { db, kind: 'postgres', pg: client, url: opts.url, close: () => client.end({ timeout: 5 }) };
    mark('PostgreSQL client');
    if (migrate) await applyMigrations(database);
    mark('migrations');
    return database;
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  mark('import PGlite and drizzle');
  // A template holds every migration: only for a database that is new and will be migrated.
  const isNew = !opts.dataDir || !existsSync(join(opts.dataDir, 'PG_VERSION'));
  const templateDir = opts.templateDir ?? TEMPLATE_DIR;
  const useTemplate = migrate && isNew && templateDir !== false;
  // On disk, a copy of the unpacked template; in memory (or without the unpacked copy), the dump.
  const copied = useTemplate && !!opts.dataDir && copyTemplateDataDir(opts.dataDir, MIGRATIONS_DIR, templateDir);
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const template = useTemplate && !copied ? readTemplate(MIGRATIONS_DIR, templateDir) : null;
  // One options object: `new PGlite(undefined, options)` drops the options.
  const client = new PGlite({
    dataDir: opts.dataDir,
    startParams: pgliteStartParams(PGlite.defaultStartParams),
    ...(template ? { loadDataDir: template } : {}),
  });
  await client.waitReady;
  mark(
    copied
      ? 'PGlite start, data directory copied from the template'
      : template
        ? 'PGlite start, template loaded'
        : isNew
          ? 'PGlite start with initdb'
          : 'PGlite start',
  );
  const db = drizzle(client, { schema }) as unknown as Db;
  const database: Database = { db, kind: 'pglite', pglite: client, close: () => client.close() };
  if (migrate) await applyMigrations(database);
  mark('migrations');
  return database;
}

/**
 * Another client of `database` with a pool of its own (PostgreSQL; no migrations, the first client
 * ran them), for a part that must not wait for a connection behind the API's transactions. PGlite
 * is one connection inside this process, with nothing to queue behind: the same database, which
 * this client's `close` leaves open.
 */
export async function openBeside(database: Database, opts: { poolSize: number; name: string }): Promise<Database> {
  if (database.kind !== 'postgres' || !database.url) return { ...database, close: async () => {} };
  return openDatabase({ url: database.url, migrate: false, poolSize: opts.poolSize, name: opts.name });
}

/**
 * Applies the migrations of `folder` not applied yet (a test points it at a cut-down copy).
 * On PostgreSQL, replicas starting together on one database take turns under an advisory lock:
 * the first applies them, the others wait and then find nothing left to apply (unlocked, two
 * migrators both run `CREATE TABLE` and one of them fails). PGlite is one process's own
 * database, so there is nobody to take turns with.
 */
export async function applyMigrations(database: Database, folder = MIGRATIONS_DIR): Promise<void> {
  if (database.pg) {
    const { migrate } = await import('drizzle-orm/postgres-js/migrator');
    await withAdvisoryLock(database.pg, LOCK_NAMESPACE.migrations, 0, () => migrate(database.db as never, { migrationsFolder: folder }));
    return;
  }
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  await migrate(database.db as never, { migrationsFolder: folder });
}
