import { exports } from 'cloudflare:workers';
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import type { MqttClient } from 'mqtt';
import { describe, expect, inject, it } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { topics } from '#shared/wire/topics.ts';
import worker from '../src/worker.ts';
import { openWorkerDb } from '../src/workers/db.ts';
import { socketMqttConnect } from '../src/workers/mqtt-socket.ts';
import { subscribeCodes } from '../test/mqtt-client.test-support.ts';
import { natSite, untilDrained } from './site.test-support.ts';

const token = inject('workersToken');
const dynsecUrl = inject('workersDynsecMqttUrl');
const skip = inject('workersDynsecSkip');
const ORIGIN = 'http://lvsfleet.test';

const SITE = natSite('dyn1', { directors: 2 });

const admin = (path: string, init: RequestInit) =>
  exports.default.fetch(`${ORIGIN}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });

/** The agent's side of enrollment, answered by this Worker with MQTT_URL naming the dynsec broker's admin and MQTT_DYNSEC on. */
async function enrollThroughDynsecWorker(enrollToken: string): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`${ORIGIN}/v1/agent/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: enrollToken }) }),
    { ...env, MQTT_URL: dynsecUrl, MQTT_DYNSEC: 'on', PUBLIC_MQTT_URL: undefined } as never,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

/** Logs in to the dynsec broker; rejects with the broker's refusal. */
function login(username: string, password: string, clientId = username): Promise<MqttClient> {
  const u = new URL(dynsecUrl);
  const c = socketMqttConnect(`mqtt://${u.host}`, { clientId, username, password, reconnectPeriod: 0, connectTimeout: 5000 });
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', (err) => (c.end(true), reject(err)));
    c.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

/** Enrolls d1 and d2 through the Worker and checks what each may do on the broker with what it got. */
async function enrollAndCheck(): Promise<void> {
  const creds: Record<string, { nodeId: string; username: string; password: string; url: string }> = {};
  // Two enrollments, each its own request with its own dynsec connection (bootstrap is idempotent).
  for (const node of ['d1', 'd2']) {
    const made = await admin(`/v1/sites/dyn1/nodes/${node}/enrollment`, { method: 'POST', body: '{}' });
    expect(made.status, await made.clone().text()).toBe(200);
    const res = await enrollThroughDynsecWorker(((await made.json()) as { token: string }).token);
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as { nodeId: string; mqtt: { url: string; username: string; password: string } };
    expect(body.mqtt.url).not.toMatch(/@/); // the admin login stays in the Worker
    creds[node] = { nodeId: body.nodeId, ...body.mqtt };
  }
  const [d1, d2] = [creds.d1, creds.d2];
  expect(d1.username).toBe(d1.nodeId);

  await expect(login(d1.username, 'wrong-password')).rejects.toThrow();
  await expect(login(d1.username, d1.password, d2.username)).rejects.toThrow(); // clientId must be the username
  const c1 = await login(d1.username, d1.password);
  const c2 = await login(d2.username, d2.password);
  try {
    // Its own desired topic granted, the other node's refused (SUBACK 0x80).
    expect(await subscribeCodes(c1, [topics.desired(d1.nodeId), topics.desired(d2.nodeId)])).toEqual([1, 128]);
    // It may publish its own status; the cloud (the dynsec admin) hears it.
    const u = new URL(dynsecUrl);
    const cloud = await login(u.username, decodeURIComponent(u.password), `cloud-${crypto.randomUUID().slice(0, 8)}`);
    try {
      let heard = '';
      cloud.on('message', (topic, payload) => topic === topics.status(d2.nodeId) && (heard = payload.toString()));
      await cloud.subscribeAsync(topics.status(d2.nodeId), { qos: 1 });
      await c2.publishAsync(topics.status(d2.nodeId), '{"probe":true}', { qos: 1 });
      expect(await waitFor(() => heard, { timeoutMs: 10_000, what: "the cloud hearing d2's status" })).toBe('{"probe":true}');
    } finally {
      await cloud.endAsync(true);
    }
  } finally {
    await c1.endAsync(true);
    await c2.endAsync(true);
  }
}

describe.skipIf(!!skip)(`enrollment creates the node's broker client on Mosquitto dynamic security from the Worker${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it(
    'two nodes enrolled through the Worker log in with what it answered, each only to its own topics; wrong passwords are refused',
    { timeout: 60_000 },
    async () => {
      const applied = await admin('/v1/sites/dyn1/spec', { method: 'PUT', body: JSON.stringify(SITE) });
      expect(applied.status, await applied.clone().text()).toBe(200);
      try {
        await enrollAndCheck();
      } finally {
        // The database is shared with flow.test.ts, whose key rotation retires a key only once every
        // enrolled node pinned a newer one: these nodes never report, so the site lets them go.
        const spare = { ...SITE, spec: { ...SITE.spec, nodes: [{ name: 'd9', role: 'director', address: '192.0.2.19', interface: 'eth0' }] } };
        const removed = await admin('/v1/sites/dyn1/spec', { method: 'PUT', body: JSON.stringify(spare) });
        expect(removed.status, await removed.clone().text()).toBe(200);
        // Both applies woke the site's publisher: its drain ends in this file (a run hung at exit
        // with it still at work).
        await untilDrained(openWorkerDb(env as never)!, 'dyn1');
      }
    },
  );
});
