import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn, spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { createApiToken } from '../src/auth/tokens.ts';
import { openDatabase, type Database } from '../src/db/client.ts';
import { openTestDatabase } from '../src/db/test-db.test-support.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../src/mqtt/broker.ts';
import { createMetrics } from '../src/server/metrics.ts';
import { StatusBook } from '../src/status/book.ts';
import { startProcess, type TestProcess } from '../../agent/src/cli/process.test-support.ts';
import mqtt from 'mqtt';
import { topics } from '#shared/wire/topics.ts';
import { nodes } from '../src/db/schema.ts';
import { startRelay } from './relay.test-support.ts';
import { servePglite } from '../test/pglite-wire.test-support.ts';
import { startResettingProxy } from './resetting-proxy.test-support.ts';
import { startTwoListenerBrokers } from '../test/two-listener-brokers.test-support.ts';
import { DYNSEC_PLUGIN, MOSQUITTO_BIN, OwnMosquitto } from '../test/mosquitto.test-support.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    workersDatabaseUrl: string;
    workersDatabaseKind: string;
    workersMqttUrl: string;
    workersToken: string;
    workersRelayUrl: string;
    /** JSON: [{ name, tcpUrl, wsUrl }], brokers with a TCP and a WebSocket listener (transport.test.ts). */
    workersTransportBrokers: string;
    /** mqtt://ADMIN:PASSWORD@127.0.0.1:PORT of a Mosquitto with dynamic security this run started, or '' (then workersDynsecSkip says why). */
    workersDynsecMqttUrl: string;
    workersDynsecSkip: string;
    /** mqtt:// of a proxy to the aedes broker that, on every other connection, closes on the client after the CONNACK's next packet and resets the packet after that (transport.test.ts). */
    workersResettingMqttUrl: string;
  }
}

const AGENT_BIN = fileURLToPath(new URL('../../bin/lvsfleet-agent.mjs', import.meta.url));
const closers: (() => Promise<unknown>)[] = [];

/**
 * Runs in Node before the workerd tests and gives them real parts to talk to: the database
 * (PostgreSQL with DATABASE_URL, else an in-memory PGlite served over the PostgreSQL wire protocol
 * by pglite-socket, so workerd's postgres.js reaches it through `connect()`), a broker (MQTT_URL,
 * else the embedded aedes broker, which checks node logins against that database), an admin token,
 * a webhook receiver, and a relay through which a real `lvsfleet-agent` process reaches the Worker
 * (relay.test-support.ts), with control paths to start and kill that agent, to render Node's
 * /metrics from the same database and to run promtool.
 */
export async function setup(project: TestProject): Promise<void> {
  let url: string;
  let kind: string;
  if (process.env.DATABASE_URL) {
    const t = await openTestDatabase();
    closers.push(() => t.close());
    url = t.url!;
    kind = 'PostgreSQL';
  } else {
    // No template: the global setup runs in vite's module runner, which has no import.meta.resolve.
    const local = await openDatabase({ templateDir: false });
    closers.push(() => local.close());
    const served = await servePglite(local.pglite!);
    closers.unshift(() => served.close());
    url = served.url;
    kind = 'PGlite over pglite-socket';
  }
  // Node's own access goes over the same wire, like any other client of that database.
  const database: Database = await openDatabase({ url });
  closers.unshift(() => database.close());
  let mqttUrl = process.env.MQTT_URL;
  if (mqttUrl) {
    // A broker shared with other runs: clear the retained documents and statuses this run left.
    const shared = mqttUrl;
    closers.unshift(async () => {
      const ids = (await database.db.select({ id: nodes.id }).from(nodes)).map((n) => n.id);
      const client = await mqtt.connectAsync(shared, { clientId: `lvsfleet-workers-test-${process.pid}` });
      for (const id of ids) for (const topic of [topics.desired(id), topics.status(id)]) await client.publishAsync(topic, '', { qos: 1, retain: true });
      await client.endAsync();
    });
  } else {
    const broker: EmbeddedBroker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', db: database.db });
    closers.unshift(() => broker.close());
    const u = new URL(broker.url);
    u.username = broker.internal.username;
    u.password = broker.internal.password;
    mqttUrl = u.toString();
  }
  const token = await createApiToken(database.db, { name: 'workers-test', scope: 'admin' });

  const hooks: { type: string; body: unknown }[] = [];
  const receiver: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (b: Buffer) => (body += b));
    req.on('end', () => {
      hooks.push({ type: String(req.headers['content-type']), body: JSON.parse(body) as unknown });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  closers.unshift(() => new Promise((r) => receiver.close(r)));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  let agent: TestProcess | null = null;
  const stateDir = await mkdtemp(join(tmpdir(), 'lvsfleet-workers-agent-'));
  closers.unshift(() => rm(stateDir, { recursive: true, force: true }));
  closers.unshift(async () => agent?.p.kill('SIGKILL'));
  const relay = await startRelay(async (req, body) => {
    const path = req.url ?? '';
    if (path === '/__webhook-url') return { status: 200, body: { url: hookUrl } };
    if (path === '/__webhooks') return { status: 200, body: hooks };
    if (path === '/__agent/output') return { status: 200, body: { output: agent?.output() ?? '' } };
    if (path === '/__agent/start') {
      const { token: enrollToken } = JSON.parse(body) as { token: string };
      const config = join(stateDir, 'agent.json');
      const enrolled = await run(process.execPath, [
        AGENT_BIN,
        'enroll',
        '--url',
        relay.url,
        '--token',
        enrollToken,
        '--config',
        config,
        '--state-dir',
        stateDir,
      ]);
      if (enrolled.code !== 0) return { status: 500, body: { error: `enroll exited ${enrolled.code}: ${enrolled.output}` } };
      agent = startProcess(process.execPath, [AGENT_BIN, 'run', '--config', config, '--dataplane', 'dry-run']);
      return { status: 200, body: { enrolled: enrolled.output } };
    }
    // What `lvsfleet serve` answers at /metrics for this database now (metrics.test.ts).
    if (path === '/__node-metrics') return { status: 200, body: { text: (await createMetrics(database.db, new StatusBook(database.db)).render()).body } };
    // promtool runs here, in Node: workerd starts no processes.
    if (path === '/__promtool') {
      const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
      if (r.error) return { status: 200, body: { skipped: 'promtool not installed (Debian package prometheus)' } };
      return { status: 200, body: { status: r.status, output: r.stdout + r.stderr } };
    }
    if (path === '/__agent/kill') {
      // SIGKILL: no goodbye, no last will over HTTPS; only the report's age tells the cloud.
      agent?.p.kill('SIGKILL');
      await agent?.exited;
      return { status: 200, body: { output: agent?.output() ?? '' } };
    }
    return null;
  });
  closers.unshift(() => new Promise((r) => relay.server.close(r)));

  const twoWay = await startTwoListenerBrokers();
  for (const b of twoWay) closers.unshift(() => b.close());
  const resetting = await startResettingProxy({ host: '127.0.0.1', port: Number(new URL(twoWay[0].tcpUrl).port) });
  closers.unshift(() => resetting.close());

  // Mosquitto with dynamic security, for enrollment from the Worker (dynsec.test.ts).
  let dynsecUrl = '';
  const dynsecSkip = !MOSQUITTO_BIN
    ? 'mosquitto is not installed'
    : !DYNSEC_PLUGIN
      ? "mosquitto's dynamic-security plugin (mosquitto_dynamic_security.so) is not installed"
      : '';
  if (!dynsecSkip) {
    const admin = { username: 'lvsfleet-cloud', password: `dynsec-${Math.random().toString(36).slice(2)}` };
    const m = await OwnMosquitto.createWithDynsec(admin.username, admin.password);
    closers.unshift(() => m.dispose());
    await m.start();
    dynsecUrl = `mqtt://${admin.username}:${admin.password}@127.0.0.1:${m.port}`;
  }
  project.provide('workersDynsecMqttUrl', dynsecUrl);
  project.provide('workersDynsecSkip', dynsecSkip);
  project.provide('workersTransportBrokers', JSON.stringify(twoWay.map(({ name, tcpUrl, wsUrl }) => ({ name, tcpUrl, wsUrl }))));
  project.provide('workersResettingMqttUrl', resetting.url);
  project.provide('workersDatabaseUrl', url);
  project.provide('workersDatabaseKind', kind);
  project.provide('workersMqttUrl', mqttUrl);
  project.provide('workersToken', token.secret);
  project.provide('workersRelayUrl', relay.url);
}

function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const p = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (b: Buffer) => (output += b));
    p.stderr.on('data', (b: Buffer) => (output += b));
    p.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

export async function teardown(): Promise<void> {
  for (const close of closers) await close().catch(() => {});
}
