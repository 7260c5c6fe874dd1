/**
 * Cloudflare Workers entry (docs/architecture.md, "Runtimes"): the same Hono app as `lvsfleet
 * serve`, over PostgreSQL through Hyperdrive or DATABASE_URL. What the Node process runs in loops
 * runs here on the platform's clock: a Durable Object per site publishes (`SitePublisher`, woken
 * by the apply and by its alarm), agents report over HTTPS (`POST /v1/agent/status|events`), and
 * the cron (`scheduled()`) runs key rotation's step in the `KeyRotator` object, the alerter's round
 * in the `AlertLoop` object, and wakes the publishers of sites with rows still open. `GET
 * /metrics` serves the fleet metrics Node serves, read from the database at each scrape; what
 * only a long-lived process counts (process, HTTP, deliveries, ingest refusals) has no place in an
 * isolate and is left out.
 */
import { createApp } from './api/app.ts';
import { ensureBootstrapAdmin } from './auth/tokens.ts';
import type { Db } from './db/client.ts';
import { loadSigner } from './keys/signing.ts';
import { renderFleetMetrics } from './metrics/fleet-registry.ts';
import { sweepExpired } from './overrides/store.ts';
import { tickRollouts } from './rollout/driver.ts';
import { issueNodeCredentials } from './mqtt/credentials.ts';
import { connectDynsec, issueWithDynsec } from './mqtt/dynsec.ts';
import { parseRetentionDays } from './retention/horizon.ts';
import { retentionLine, retentionRound } from './retention/prune.ts';
import { StatusBook } from './status/book.ts';
import { AlertLoop } from './workers/alert-loop.ts';
import { KeyRotator, keyStep } from './workers/key-rotator.ts';
import { openWorkerDb } from './workers/db.ts';
import { bindingLimits } from './workers/rate-limits.ts';
import { brokerOf, type Env } from './workers/env.ts';
import { workerMqttConnect } from './workers/mqtt-transport.ts';
import { SitePublisher, wakePublishers } from './workers/site-publisher.ts';

export { AlertLoop, KeyRotator, SitePublisher };

interface Ctx {
  waitUntil(p: Promise<unknown>): void;
}

const WORKER_SPEC_LIMITS = { json: 1024 * 1024, yaml: 1024 * 1024 };

const log = (line: string) => console.error(line);
const unavailable = (message: string) => Response.json({ error: { code: 'unavailable', message } }, { status: 503 });

/** Registered once per isolate (idempotent: `ensureBootstrapAdmin` keeps an existing token). */
let bootstrapped: string | undefined;

/** Enrollment's broker credentials: stored as a scrypt hash, and created on Mosquitto's dynamic security when MQTT_DYNSEC is on. */
function credentialIssuer(env: Env) {
  const broker = brokerOf(env);
  if (env.MQTT_DYNSEC !== 'on' || !broker) return issueNodeCredentials;
  return async (tx: Db, nodeId: string) => {
    if (!broker.username || !broker.password) throw new Error('MQTT_DYNSEC needs MQTT_URL with the dynamic-security admin login');
    const dynsec = await connectDynsec({ mqttUrl: broker.url, username: broker.username, password: broker.password, connect: workerMqttConnect, log });
    try {
      await dynsec.bootstrap(broker.username);
      return await issueWithDynsec(issueNodeCredentials, dynsec)(tx, nodeId);
    } finally {
      await dynsec.close();
    }
  };
}

/**
 * Retention on the cron: a few batches a minute, which keeps up with 28 million events a day and
 * keeps a step within an invocation's CPU. A bad EVENT_RETENTION_DAYS deletes nothing and says why.
 */
async function retentionStep(db: Db, env: Env): Promise<void> {
  const days = parseRetentionDays(env.EVENT_RETENTION_DAYS, 'EVENT_RETENTION_DAYS');
  const r = await retentionRound(db, { days, now: Date.now(), maxBatches: 4 });
  const line = retentionLine(r, days);
  if (line) log(line);
}

export default {
  async fetch(request: Request, env: Env, ctx: Ctx): Promise<Response> {
    const db = openWorkerDb(env);
    if (!db) return unavailable('no database: bind HYPERDRIVE or set DATABASE_URL');
    if (env.LVSFLEET_ADMIN_TOKEN && bootstrapped !== env.LVSFLEET_ADMIN_TOKEN) {
      await ensureBootstrapAdmin(db, env.LVSFLEET_ADMIN_TOKEN);
      bootstrapped = env.LVSFLEET_ADMIN_TOKEN;
    }
    const broker = brokerOf(env);
    // One book for the request: the status routes and /metrics read the same evaluations.
    const status = new StatusBook(db);
    const app = createApp({
      db,
      status,
      // Only with its secret: on a public hostname the fleet's names are nobody else's business.
      metrics: { render: () => renderFleetMetrics(db, status), token: env.METRICS_TOKEN || null },
      // After the apply's transaction committed: the site's publisher drains, past the answer.
      kick: () => ctx.waitUntil(wakePublishers(db, env).catch((err: Error) => log(`publisher wake failed: ${err.message}`))),
      // After `keys rotate`: a step now, so the announced key goes out in every document.
      kickKeys: () => ctx.waitUntil(keyStep(env).catch((err: Error) => log(`key rotation step failed: ${err.message}`))),
      signer: { publicJwks: async () => (await loadSigner(db, { keySecret: env.SIGNING_KEY_SECRET })).publicJwks() },
      keySecret: env.SIGNING_KEY_SECRET,
      issueNodeCredentials: broker ? credentialIssuer(env) : undefined,
      mqttUrl: env.PUBLIC_MQTT_URL ?? broker?.url,
      reportUrl: env.PUBLIC_URL ?? new URL(request.url).origin,
      webhookTargets: { allowPrivate: env.WEBHOOK_ALLOW_PRIVATE === 'on' },
      clientAddress: () => request.headers.get('cf-connecting-ip') ?? undefined,
      rateLimits: bindingLimits(env),
      // An isolate has 128 MB: a 4 MiB spec alone holds about 85 MB of heap while it is compiled.
      // The API's general 1 MiB (a 10,000-node site as JSON) is a Worker's bound for a spec too.
      specBodyLimits: WORKER_SPEC_LIMITS,
      log,
    });
    return app.fetch(request);
  },

  /**
   * The Cron Trigger (every minute): expired overrides ended, a tick of every staged rollout, a
   * key rotation step (which wakes every site's publisher when the key set moved), then at once
   * one alerting round (node.offline from heartbeat age included, and the webhooks' sends) and a
   * wake for every site with rows open (what those steps released, and retries) followed by a
   * bounded step of retention. The alerting round runs beside them: a webhook receiver may take
   * its whole timeout to answer, and publishing must not wait for it.
   */
  async scheduled(_controller: unknown, env: Env): Promise<void> {
    const db = openWorkerDb(env);
    if (!db) return log('cron: no database: bind HYPERDRIVE or set DATABASE_URL');
    const swept = await sweepExpired(db);
    if (swept) log(`overrides: ${swept} expired; republishing`);
    await tickRollouts(db, () => {}, log);
    await keyStep(env).catch((err: Error) => log(`cron: ${err.message}`));
    const alerting = (async () => {
      const round = await env.ALERT_LOOP.get(env.ALERT_LOOP.idFromName('alerts')).fetch('https://alert-loop/round', { method: 'POST' });
      if (!round.ok) log(`cron: alerting round answered ${round.status}: ${await round.text()}`);
    })();
    await wakePublishers(db, env);
    await retentionStep(db, env).catch((err: Error) => log(`cron: retention: ${err.message}`));
    await alerting;
  },
};
