import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/**
 * A fresh PostgreSQL database for one test run on the server of `DATABASE_URL`
 * (`lvsfleet_t_<random>`, or LVSFLEET_TEST_DB_PREFIX's prefix where several people share the
 * server), dropped by `drop()`. Answers its URL.
 */
export async function freshPostgres(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const prefix = /^[a-z_][a-z0-9_]{0,30}$/.test(process.env.LVSFLEET_TEST_DB_PREFIX ?? '') ? process.env.LVSFLEET_TEST_DB_PREFIX : 'lvsfleet_t_';
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
