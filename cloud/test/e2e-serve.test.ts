import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compactVerify, createLocalJWKSet, type JWK } from 'jose';
import type { MqttClient } from 'mqtt';
import { call } from './harness.test-support.ts';
import { SEEDS_YAML as SEEDS } from './fixtures.test-support.ts';
import { collect, connectAs, endQuietly } from './mqtt-client.test-support.ts';
import { freePorts } from './net.test-support.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { topics } from '#shared/wire/topics.ts';

/**
 * The same flow through the real `lvsfleet serve` process (embedded PGlite + aedes): what a user
 * gets from `npm start`. Processes are this test's own, stopped by PID.
 */
const BIN = fileURLToPath(new URL('../../bin/lvsfleet.mjs', import.meta.url));
const dr1 = 'bj-dc1.dr1';

interface Serve {
  proc: ChildProcess;
  out: string;
  exited: Promise<number | null>;
}

function serve(args: string[], env: Record<string, string>): Serve {
  const proc = spawn(process.execPath, [BIN, 'serve', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const s: Serve = { proc, out: '', exited: new Promise((r) => proc.once('exit', (code) => r(code))) };
  proc.stdout!.on('data', (b) => (s.out += b));
  proc.stderr!.on('data', (b) => (s.out += b));
  return s;
}

async function stop(s: Serve | undefined): Promise<void> {
  if (!s || s.proc.exitCode !== null) return;
  process.kill(s.proc.pid!, 'SIGTERM');
  await s.exited;
}

describe('lvsfleet serve (spawned) with the embedded broker', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lvsfleet-serve-'));
  const admin = `lvs_admin_${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  let httpPort = 0;
  let mqttPort = 0;
  let s: Serve | undefined;
  let base = '';
  const clients: MqttClient[] = [];

  const start = async () => {
    s = serve(['--port', String(httpPort), '--mqtt-port', String(mqttPort), '--data-dir', dataDir], { LVSFLEET_ADMIN_TOKEN: admin });
    await waitFor(() => /lvsfleet serving on (http:\S+)/.exec(s!.out) ?? (s!.proc.exitCode !== null ? Promise.reject(new Error(s!.out)) : null), {
      what: 'serve banner',
      timeoutMs: 60_000,
    });
    base = /lvsfleet serving on (http:\S+)/.exec(s!.out)![1];
  };

  async function receiveAsDr1(url: string, creds: { username: string; password: string }, keys: JWK[]): Promise<any> {
    const c = await connectAs(url, creds.username, creds.password);
    clients.push(c);
    const got = collect(c);
    await c.subscribeAsync(topics.desired(dr1), { qos: 1 });
    const p = await waitFor(() => got.get(topics.desired(dr1))?.[0], { what: 'dr1 document', timeoutMs: 30_000 });
    const { payload } = await compactVerify(p.toString(), createLocalJWKSet({ keys }));
    return JSON.parse(new TextDecoder().decode(payload));
  }

  beforeAll(async () => {
    [httpPort, mqttPort] = await freePorts(2);
    await start();
  }, 120_000);
  afterAll(async () => {
    for (const c of clients) await endQuietly(c);
    await stop(s);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves, applies, enrolls, publishes; a second serve on the same MQTT port says so; a restart keeps everything', async () => {
    expect((await call(base, admin, 'PUT', '/v1/sites/bj-dc1/spec', { yaml: SEEDS })).status).toBe(200);
    const t = await call(base, admin, 'POST', '/v1/sites/bj-dc1/nodes/dr1/enrollment');
    const e = await call(base, null, 'POST', '/v1/agent/enroll', { json: { token: t.json.token } });
    expect(e.status).toBe(200);
    expect(e.json.mqtt.url).toBe(`mqtt://127.0.0.1:${mqttPort}`);
    const claims = await receiveAsDr1(e.json.mqtt.url, e.json.mqtt, e.json.keys);
    expect(claims).toMatchObject({ nodeId: dr1, revision: 1 });

    const otherDir = mkdtempSync(join(tmpdir(), 'lvsfleet-serve2-'));
    const other = serve(['--port', '0', '--mqtt-port', String(mqttPort), '--data-dir', otherDir], { LVSFLEET_ADMIN_TOKEN: admin });
    const code = await other.exited;
    rmSync(otherDir, { recursive: true, force: true });
    expect(code).toBe(1);
    expect(other.out).toContain(`MQTT port ${mqttPort} is already in use`);

    await stop(s);
    await start();
    expect((await call(base, admin, 'GET', '/v1/sites/bj-dc1')).json.revision).toBe(1);
    expect((await call(base, null, 'POST', '/v1/agent/enroll', { json: { token: t.json.token } })).status).toBe(401);
    const again = await receiveAsDr1(e.json.mqtt.url, e.json.mqtt, e.json.keys);
    expect(again).toMatchObject({ nodeId: dr1, revision: 1 });
  }, 240_000);
});
