/**
 * The Workers row of bench:publish: the Workers entry (cloud/src/worker.ts) run by `wrangler dev`
 * (wrangler's unstable_dev API: workerd, its Durable Objects and alarms, bundled from
 * wrangler.toml as `npm run dev:worker` does), over a PostgreSQL database (its URL: each invocation
 * connects to it, as without Hyperdrive), or the bench's PGlite served on the PostgreSQL wire
 * protocol (as the workerd tests do), and publishing to the bench's broker. Applies go to it over
 * HTTP; its SitePublisher drains to the broker as in production.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { servePglite } from '../test/pglite-wire.test-support.ts';

export interface BenchCloud {
  /** PUT /v1/sites/{site}/spec with `body`, as the admin `token`. */
  apply(site: string, body: string, token: string, query?: string): Promise<Response>;
  close(): Promise<void>;
}

export async function startWorkersCloud(database: PGlite | string, broker: { url: string; username?: string; password?: string }): Promise<BenchCloud> {
  // No metrics and no account look-ups from a benchmark.
  process.env.WRANGLER_SEND_METRICS = 'false';
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
  const { unstable_dev } = await import('wrangler');
  const served = typeof database === 'string' ? { url: database, close: async () => {} } : await servePglite(database);
  const dir = await mkdtemp(join(tmpdir(), 'lvsfleet-bench-worker-'));
  // An empty vars file: a developer's .dev.vars must not point the bench at another database.
  const envFile = join(dir, 'empty.vars');
  await writeFile(envFile, '');
  const mqtt = new URL(broker.url);
  if (broker.username) mqtt.username = encodeURIComponent(broker.username);
  if (broker.password) mqtt.password = encodeURIComponent(broker.password);
  try {
    const worker = await unstable_dev('cloud/src/worker.ts', {
      config: 'wrangler.toml',
      envFiles: [envFile],
      ip: '127.0.0.1',
      persistTo: join(dir, 'state'),
      logLevel: 'error',
      vars: { DATABASE_URL: served.url, MQTT_URL: mqtt.toString() },
      experimental: { disableExperimentalWarning: true, disableDevRegistry: true },
    });
    return {
      apply: (site, body, token, query = '') =>
        worker.fetch(`http://127.0.0.1:${worker.port}/v1/sites/${site}/spec${query}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body,
        }) as unknown as Promise<Response>,
      async close() {
        await worker.stop();
        await served.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await served.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
