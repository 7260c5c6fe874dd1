import { randomBytes } from 'node:crypto';
import postgres, { type Sql } from 'postgres';

/**
 * A fresh PostgreSQL database for one test run on the server of `DATABASE_URL`
 * (`lvsfleet_t_<random>`, or `$TEST_DB_PREFIX<random>` so runs sharing a server keep apart),
 * dropped by `drop()`. Answers its URL.
 */
export async function freshPostgres(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const prefix = /^[a-z][a-z0-9_]{0,40}$/.test(process.env.TEST_DB_PREFIX ?? '') ? process.env.TEST_DB_PREFIX : 'lvsfleet_t_';
  const name = `${prefix}${randomBytes(5).toString('hex')}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end({ timeout: 5 });
    },
  };
}

/**
 * The backend pid of the session named `applicationName` in the database `sql` is connected to.
 * Only that database's: pg_stat_activity lists the whole server's sessions, and test files running
 * side by side on one server name their sessions alike (one killed another's that way).
 */
export async function sessionPid(sql: Sql, applicationName: string): Promise<number> {
  const rows = await sql<{ pid: number }[]>`
    SELECT pid FROM pg_stat_activity WHERE application_name = ${applicationName} AND datname = current_database()`;
  if (rows.length !== 1) throw new Error(`${rows.length} sessions named ${applicationName} in this database, expected one`);
  return rows[0].pid;
}
