/**
 * Cloudflare Workers entry: the same Hono app as `lvsfleet serve`, over PostgreSQL through
 * Hyperdrive (binding HYPERDRIVE) or a DATABASE_URL var/secret. Publishing and status ingest
 * are not run from Workers yet: they live with `lvsfleet serve` (or a Node sidecar) for now,
 * so applies store revisions and outbox rows that a Node publisher drains.
 */
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { createApp } from './api/app.ts';
import type { Db } from './db/client.ts';
import * as schema from './db/schema.ts';

export interface Env {
  HYPERDRIVE?: { connectionString: string };
  DATABASE_URL?: string;
  /** The broker URL agents are told at enrollment, once Workers can enroll. */
  MQTT_URL?: string;
}

interface Ctx {
  waitUntil(p: Promise<unknown>): void;
}

export default {
  async fetch(request: Request, env: Env, ctx: Ctx): Promise<Response> {
    const url = env.HYPERDRIVE?.connectionString ?? env.DATABASE_URL;
    if (!url) {
      return Response.json({ error: { code: 'unavailable', message: 'no database: bind HYPERDRIVE or set DATABASE_URL' } }, { status: 503 });
    }
    // One client per request: workerd does not let a socket opened by one request serve another.
    // prepare:false because Hyperdrive (transaction pooling) does not keep prepared statements.
    const client = postgres(url, { max: 1, prepare: false, fetch_types: false, onnotice: () => {} });
    const app = createApp({ db: drizzle(client, { schema }) as unknown as Db, log: (line) => console.error(line) });
    // The client is not ended: in workerd postgres.js's end() leaves an unhandled "Stream was
    // cancelled" rejection (porsager/postgres#1202); the runtime closes a request's sockets when
    // the request is done.
    void ctx;
    return app.fetch(request);
  },
};
