import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { ensureBootstrapAdmin } from '../auth/tokens.ts';
import { openBeside, openDatabase, type Database } from '../db/client.ts';
import { loadSigner } from '../keys/signing.ts';
import { nodeEd25519 } from '../keys/ed25519-node.ts';
import { issueNodeCredentials } from '../mqtt/credentials.ts';
import { connectDynsec, issueWithDynsec } from '../mqtt/dynsec.ts';
import { startPublisher } from '../publisher/publisher.ts';
import { startOverrideSweeper } from '../overrides/sweeper.ts';
import { openSiteLeases } from '../publisher/site-leases.ts';
import { startIngest } from '../ingest/ingest.ts';
import { startRolloutDriver } from '../rollout/driver.ts';
import { startAlerter } from '../alerts/alerter.ts';
import { DEFAULT_EVENT_RETENTION_DAYS } from '../retention/horizon.ts';
import { startRetention } from '../retention/retention-loop.ts';
import { systemResolve } from '../alerts/webhook-transport.ts';
import { DataDirInUseError, lockDataDir } from './data-dir-lock.ts';
import { bucketLimits, DEFAULT_API_LIMITS } from '../api/rate-limit.ts';
import { STALE_AFTER_MS, StatusBook } from '../status/book.ts';
import { StatusHistory } from '../status/history.ts';
import { startRotator } from '../keys/rotator.ts';
import type { StartProfile } from './start-profile.ts';
import type { Handoff } from '../sites/apply.ts';

export interface ServerOptions {
  /** HTTP port (0: any free port). */
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  /** An external broker (mqtt://user:pass@host:port); otherwise the embedded one on mqttPort. */
  mqttUrl?: string;
  mqttPort: number;
  /** The broker URL agents are told at enrollment (default: the broker's own URL, without credentials). */
  publicMqttUrl?: string;
  /**
   * With an external Mosquitto: provision every enrolled node as a dynamic-security client
   * (infra/mosquitto), through the admin client named in mqttUrl.
   */
  mqttDynsec?: boolean;
  /** `--webhook-allow-private`: webhooks may reach private ranges and loopback (never link-local or metadata). */
  webhookAllowPrivate?: boolean;
  /** `--webhook-timeout`: how long one webhook send may take before it is retried (default 10 s). */
  webhookTimeoutMs?: number;
  /** `--event-retention-days`: days of events and finished webhook deliveries kept (resolved alerts at least 30); 0 keeps them all (default 30). */
  eventRetentionDays?: number;
  /** LVSFLEET_SIGNING_KEY_SECRET: private signing keys are stored sealed under it (cloud/src/keys/sealed-jwk.ts). */
  signingKeySecret?: string;
  /** LVSFLEET_ADMIN_TOKEN: the bootstrap admin token to register. */
  adminToken?: string;
  /**
   * `--publisher off`: an API-only replica (default on). It neither drains the outbox nor runs key
   * rotation; the replicas with a publisher on the same PostgreSQL pick its applies up on their poll.
   */
  publisher?: boolean;
  log: (line: string) => void;
  /** Stage marks of the start (`LVSFLEET_START_PROFILE=1`); none when absent. */
  profile?: StartProfile;
}

export interface RunningServer {
  url: string;
  mqttUrl: string;
  database: Database['kind'];
  /** The generated admin token when it was made by this start (print once), else null. */
  newAdminToken: string | null;
  adminTokenFile: string;
  close(): Promise<void>;
}

/** Errors of the server start: a port in use, a bad option. `serve` prints them and exits 1. */
export class ServeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServeError';
  }
}

/** Reads credentials from an `mqtt://user:pass@host:port` URL and answers the URL without them. */
function splitMqttUrl(raw: string): { url: string; username?: string; password?: string } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ServeError(`--mqtt-url ${raw} is not a URL`);
  }
  if (!/^(mqtts?|wss?):$/.test(u.protocol)) throw new ServeError(`--mqtt-url must be mqtt://, mqtts://, ws:// or wss://, not ${u.protocol}`);
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  u.username = '';
  u.password = '';
  return { url: u.toString().replace(/\/$/, ''), username, password };
}

/**
 * Starts everything `lvsfleet serve` runs: database + migrations, bootstrap admin token, signing
 * key, the embedded broker (unless an external one is given), publisher, status ingest, the
 * alerting loop (cross-node findings, webhooks) and the HTTP API. Whatever started is closed
 * again if a later part fails.
 */
export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const mark = (stage: string) => o.profile?.mark(stage);
  mark('Node, CLI and server code loaded');
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (err) {
        o.log(`close: ${(err as Error).message}`);
      }
    }
    closers.length = 0;
  };
  try {
    // Fail fast on a taken HTTP port, before seconds of database start-up.
    if (o.port !== 0) await probePort(o.port, o.host);
    await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
    const lock = await lockDataDir(o.dataDir).catch((err: Error) => {
      throw err instanceof DataDirInUseError ? new ServeError(err.message) : err;
    });
    closers.push(() => lock.release());
    mark('data directory locked');
    const database = await openDatabase({ url: o.databaseUrl, dataDir: o.databaseUrl ? undefined : join(o.dataDir, 'pgdata'), mark });
    closers.push(() => database.close());
    const db = database.db;

    const adminTokenFile = join(o.dataDir, 'admin-token');
    const boot = await ensureBootstrapAdmin(db, o.adminToken);
    let newAdminToken: string | null = null;
    if (boot.created && !o.adminToken && boot.secret) {
      await writeFile(adminTokenFile, boot.secret + '\n', { mode: 0o600 });
      await chmod(adminTokenFile, 0o600);
      newAdminToken = boot.secret;
    }
    mark('bootstrap admin token');

    // Node's own Ed25519 call: the same signatures as WebCrypto's (which Workers use), less main-thread work per document.
    const signer = await loadSigner(db, { keySecret: o.signingKeySecret, ed25519: nodeEd25519() });
    mark('signing key');
    let broker = splitMqttUrl(o.mqttUrl ?? 'mqtt://127.0.0.1:1');
    if (!o.mqttUrl) {
      // Imported here, as the metrics and the app below, so a start profile shows each one's cost.
      const { startEmbeddedBroker } = await import('../mqtt/broker.ts');
      const embedded = await startEmbeddedBroker({ port: o.mqttPort, host: o.host, db, log: o.log }).catch((err: Error) => {
        throw new ServeError(err.message);
      });
      closers.push(() => embedded.close());
      broker = { url: embedded.url, ...embedded.internal };
      mark('embedded broker (aedes)');
    }
    let issue = issueNodeCredentials;
    if (o.mqttDynsec) {
      if (!o.mqttUrl || !broker.username || !broker.password)
        throw new ServeError('--mqtt-dynsec needs --mqtt-url mqtt://ADMIN:PASSWORD@host:port (the dynamic-security admin client)');
      const dynsec = await connectDynsec({ mqttUrl: broker.url, username: broker.username, password: broker.password, log: o.log }).catch((err: Error) => {
        throw new ServeError(`dynamic security on ${broker.url}: ${err.message}`);
      });
      closers.push(() => dynsec.close());
      await dynsec.bootstrap(broker.username);
      issue = issueWithDynsec(issueNodeCredentials, dynsec);
    }
    // Rotation, override expiry and staged rollouts run beside a publisher: their steps end in publishing.
    let kick = () => {};
    let handoff: Handoff | undefined;
    let kickKeys = () => {};
    let kickRollouts = () => {};
    if (o.publisher ?? true) {
      // On PostgreSQL other replicas may publish too: each site is drained under its lease.
      const leases = o.databaseUrl
        ? // The session's name in pg_stat_activity says which replica holds which site's lease.
          await openSiteLeases(o.databaseUrl, { log: o.log, name: `lvsfleet-site-leases ${hostname()} pid ${process.pid}` })
        : undefined;
      if (leases) closers.push(() => leases.close());
      // The publisher's own connection on PostgreSQL: while a burst of applies holds every
      // connection of the API's pool in a transaction, a drain's reads and marks would wait behind
      // all of them, and the documents of the applies done first with them (100 sites applied at
      // once on one replica with Mosquitto: all received p99 2.9-3.7 s with it, 3.8-5.2 without).
      const publisherDatabase = await openBeside(database, { poolSize: 1, name: `lvsfleet-publisher ${hostname()} pid ${process.pid}` });
      closers.push(() => publisherDatabase.close());
      const publisher = await startPublisher({
        db: publisherDatabase.db,
        mqttUrl: broker.url,
        username: broker.username,
        password: broker.password,
        signer,
        log: o.log,
        leases,
        // PGlite runs no autovacuum: without one, the space of pruned rows is never used again.
        vacuumAfterPrune: database.kind === 'pglite',
      });
      closers.push(() => publisher.close());
      mark('publisher connected');
      const rotator = startRotator({ db, signer, onKeysChanged: () => publisher.republish(), staleAfterMs: STALE_AFTER_MS, log: o.log });
      closers.push(() => rotator.close());
      const sweeper = startOverrideSweeper({ db, kick: () => publisher.kick(), log: o.log });
      closers.push(() => sweeper.close());
      const rollouts = startRolloutDriver({ db, kickPublisher: () => publisher.kick(), log: o.log });
      closers.push(() => rollouts.close());
      kick = () => publisher.kick();
      // The API runs beside this publisher: an apply hands it the rows it wrote (no read-back).
      handoff = (rows) => publisher.handoff(rows);
      kickKeys = () => rotator.kick();
      kickRollouts = () => rollouts.kick();
    } else o.log('publisher off: this replica serves the API only; replicas with a publisher on this database publish its applies');
    // One status book: pages, API, alerts and metrics see the same evaluations, and it alone writes the state history.
    const status = new StatusBook(db, undefined, new StatusHistory(db), o.log);
    const { createMetrics } = await import('./metrics.ts');
    const metrics = createMetrics(db, status);
    mark('metrics (prom-client)');
    const ingest = await startIngest({
      db,
      mqttUrl: broker.url,
      username: broker.username,
      password: broker.password,
      log: o.log,
      onReject: (reason) => metrics.ingestRejected(reason),
    });
    closers.push(() => ingest.close());
    mark('status ingest');
    const webhookTargets = { allowPrivate: !!o.webhookAllowPrivate, resolve: systemResolve };
    let publicUrl: string | undefined;
    const alerter = startAlerter({
      db,
      status,
      log: o.log,
      webhookTargets,
      webhookTimeoutMs: o.webhookTimeoutMs,
      baseUrl: () => publicUrl,
      onDeliveries: (c) => metrics.countDeliveries(c),
    });
    closers.push(() => alerter.close());
    mark('alerter');
    // PGlite runs no autovacuum: without one, the space of deleted events is never used again.
    const retention = startRetention({ db, days: o.eventRetentionDays ?? DEFAULT_EVENT_RETENTION_DAYS, log: o.log, vacuum: database.kind === 'pglite' });
    closers.push(() => retention.close());

    if (!o.publicMqttUrl && /^(0\.0\.0\.0|::)$/.test(o.host)) {
      o.log(`agents would be told ${broker.url} at enrollment: pass --public-mqtt-url with an address they can reach`);
    }
    const { createApp } = await import('../api/app.ts');
    const { compressed } = await import('./compressed.ts');
    const app = createApp({
      db,
      kick: (after) => {
        if (!after?.handedOff) kick();
        kickRollouts();
      },
      handoff,
      kickKeys,
      signer,
      keySecret: o.signingKeySecret,
      issueNodeCredentials: issue,
      mqttUrl: o.publicMqttUrl ?? broker.url,
      metrics,
      webhookTargets,
      rateLimits: bucketLimits(DEFAULT_API_LIMITS),
      clientAddress: (c) => (c.env as { incoming?: { socket: { remoteAddress?: string } } } | undefined)?.incoming?.socket.remoteAddress,
      status,
      log: o.log,
    });
    mark('app (Hono, routes, OpenAPI schemas)');
    const http = createAdaptorServer({ fetch: compressed(app) });
    await new Promise<void>((resolve, reject) => {
      http.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'EADDRINUSE' ? new ServeError(`HTTP port ${o.port} is already in use (pick another with --port)`) : err),
      );
      http.listen(o.port, o.host, () => resolve());
    });
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          (http as { closeAllConnections?: () => void }).closeAllConnections?.();
          http.close(() => resolve());
        }),
    );
    mark('HTTP listening');
    const port = (http.address() as AddressInfo).port;
    const hostForUrl = o.host.includes(':') ? `[${o.host}]` : o.host;
    // Links in Slack messages; a wildcard address is no place to send people.
    if (!/^(0\.0\.0\.0|::)$/.test(o.host)) publicUrl = `http://${hostForUrl}:${port}`;
    return {
      url: `http://${hostForUrl}:${port}`,
      mqttUrl: broker.url,
      database: database.kind,
      newAdminToken,
      adminTokenFile,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function probePort(port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new ServeError(`HTTP port ${port} is already in use (pick another with --port)`) : err),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}
