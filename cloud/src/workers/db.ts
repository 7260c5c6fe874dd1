import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { Db } from '../db/client.ts';
import * as schema from '../db/schema.ts';
import type { Env } from './env.ts';

/**
 * PostgreSQL for one request, alarm or cron run: through Hyperdrive (binding HYPERDRIVE) or
 * DATABASE_URL. One client per invocation: workerd does not let a socket opened by one request
 * serve another. prepare:false because Hyperdrive (transaction pooling) keeps no prepared
 * statements. The client is not ended: in workerd postgres.js's end() leaves an unhandled
 * "Stream was cancelled" rejection (porsager/postgres#1202); the runtime closes an invocation's
 * sockets when it is done. Null without a database.
 */
export function openWorkerDb(env: Env): Db | null {
  const url = env.HYPERDRIVE?.connectionString ?? env.DATABASE_URL;
  if (!url) return null;
  const client = postgres(url, { max: 1, prepare: false, fetch_types: false, onnotice: () => {} });
  return drizzle(client, { schema }) as unknown as Db;
}
