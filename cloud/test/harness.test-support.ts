import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { createApp } from '../src/api/app.ts';
import { ensureBootstrapAdmin } from '../src/auth/tokens.ts';
import { openDatabase, type Database } from '../src/db/client.ts';
import { loadSigner, type Signer } from '../src/keys/signing.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../src/mqtt/broker.ts';
import { issueNodeCredentials } from '../src/mqtt/credentials.ts';
import { connectDynsec, issueWithDynsec, type Dynsec } from '../src/mqtt/dynsec.ts';
import { startPublisher, type Publisher } from '../src/publisher/publisher.ts';
import { startIngest, type Ingest } from '../src/ingest/ingest.ts';
import { startRolloutDriver, type RolloutDriver } from '../src/rollout/driver.ts';
import type { OwnMosquitto } from './mosquitto.test-support.ts';

/**
 * The cloud as `serve` runs it, assembled in-process from the real parts (database, signer,
 * broker, publisher, ingest, the HTTP API on a real loopback port), so a test can stop and start
 * the broker on its own. Broker: the embedded aedes on `mqttPort`, or a Mosquitto with the
 * dynamic-security plugin that the test owns.
 */
export type BrokerPlan = { kind: 'aedes'; port: number; internalPassword: string } | { kind: 'mosquitto'; mosquitto: OwnMosquitto; adminPassword: string };

export interface Cloud {
  url: string;
  db: Database;
  signer: Signer;
  publisher: Publisher;
  ingest: Ingest;
  rollouts: RolloutDriver;
  /** The admin token made at this start, or null when the data dir already had one. */
  newAdminToken: string | null;
  mqttUrl: string;
  stopBroker(): Promise<void>;
  startBroker(): Promise<void>;
  close(): Promise<void>;
}

export async function startCloud(opts: { dataDir?: string; databaseUrl?: string; broker: BrokerPlan; log?: (l: string) => void }): Promise<Cloud> {
  const log = opts.log ?? (() => {});
  const db = await openDatabase({ url: opts.databaseUrl, dataDir: opts.databaseUrl ? undefined : opts.dataDir });
  const boot = await ensureBootstrapAdmin(db.db);
  const signer = await loadSigner(db.db);
  const plan = opts.broker;

  let aedes: EmbeddedBroker | null = null;
  let dynsec: Dynsec | null = null;
  let mqttUrl: string;
  let creds: { username: string; password: string };
  let issue = issueNodeCredentials;
  if (plan.kind === 'aedes') {
    aedes = await startEmbeddedBroker({ port: plan.port, db: db.db, log, internalPassword: plan.internalPassword });
    mqttUrl = aedes.url;
    creds = aedes.internal;
  } else {
    mqttUrl = plan.mosquitto.url;
    creds = { username: 'lvsfleet-cloud', password: plan.adminPassword };
    dynsec = await connectDynsec({ mqttUrl, ...creds, log });
    await dynsec.bootstrap(creds.username);
    issue = issueWithDynsec(issueNodeCredentials, dynsec);
  }
  const publisher = await startPublisher({ db: db.db, mqttUrl, ...creds, signer, log, pollMs: 200 });
  const ingest = await startIngest({ db: db.db, mqttUrl, ...creds, log });
  const rollouts = startRolloutDriver({ db: db.db, kickPublisher: () => publisher.kick(), log, pollMs: 200 });
  const app = createApp({
    db: db.db,
    kick: () => {
      publisher.kick();
      rollouts.kick();
    },
    signer,
    issueNodeCredentials: issue,
    mqttUrl,
    log,
  });
  const http = createAdaptorServer({ fetch: app.fetch });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  const port = (http.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    db,
    signer,
    publisher,
    ingest,
    rollouts,
    newAdminToken: boot.created ? boot.secret : null,
    mqttUrl,
    async stopBroker() {
      if (plan.kind === 'aedes') {
        await aedes?.close();
        aedes = null;
      } else await plan.mosquitto.stop();
    },
    async startBroker() {
      if (plan.kind === 'aedes') aedes = await startEmbeddedBroker({ port: plan.port, db: db.db, log, internalPassword: plan.internalPassword });
      else await plan.mosquitto.start();
    },
    async close() {
      await new Promise<void>((resolve) => {
        (http as { closeAllConnections?: () => void }).closeAllConnections?.();
        http.close(() => resolve());
      });
      await rollouts.close();
      await publisher.close();
      await ingest.close();
      await dynsec?.close();
      await aedes?.close();
      await db.close();
    },
  };
}

export const randomPassword = () => randomBytes(24).toString('base64url');

/** fetch against the cloud with a bearer token; JSON or YAML bodies. */
export async function call(
  base: string,
  token: string | null,
  method: string,
  path: string,
  body?: { json?: unknown; yaml?: string },
): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (body?.yaml !== undefined) {
    headers['content-type'] = 'application/yaml';
    payload = body.yaml;
  } else if (body?.json !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body.json);
  }
  const res = await fetch(`${base}${path}`, { method, headers, body: payload });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}
