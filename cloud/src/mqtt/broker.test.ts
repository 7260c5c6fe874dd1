import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import type { MqttClient } from 'mqtt';
import { openDatabase, type Database } from '../db/client.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker.ts';
import { issueNodeCredentials } from './credentials.ts';
import { insertSite, seedsSite } from '../../test/fixtures.test-support.ts';
import { collect, connectAs, endQuietly, subscribeCodes } from '../../test/mqtt-client.test-support.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { topics } from '#shared/wire/topics.ts';

const dr1 = 'bj-dc1.dr1';
const dr2 = 'bj-dc1.dr2';
let d: Database;
let broker: EmbeddedBroker;
let cred1: { username: string; password: string };
let cred2: { username: string; password: string };
const clients: MqttClient[] = [];
const lines: string[] = [];

beforeAll(async () => {
  d = await openDatabase({});
  await insertSite(d.db, seedsSite());
  cred1 = await issueNodeCredentials(d.db, dr1);
  cred2 = await issueNodeCredentials(d.db, dr2);
  broker = await startEmbeddedBroker({ port: 0, db: d.db, log: (l) => lines.push(l) });
});
afterAll(async () => {
  for (const c of clients) await endQuietly(c);
  await broker?.close();
  await d?.close();
});

async function connect(...args: Parameters<typeof connectAs>): Promise<MqttClient> {
  const c = await connectAs(...args);
  clients.push(c);
  return c;
}

describe('embedded broker', () => {
  it('answers its url and a random internal password', () => {
    expect(broker.url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(broker.internal.username).toBe('lvsfleet-cloud');
    expect(broker.internal.password.length).toBeGreaterThanOrEqual(40);
  });

  it('refuses wrong passwords, unknown users, anonymous clients and a clientId that is not the username', async () => {
    await expect(connectAs(broker.url, dr1, 'wrong')).rejects.toThrow(/Bad username or password|code 4/i);
    await expect(connectAs(broker.url, 'bj-dc1.ghost', cred1.password)).rejects.toThrow();
    await expect(connectAs(broker.url, undefined, undefined)).rejects.toThrow();
    await expect(connectAs(broker.url, dr1, cred2.password)).rejects.toThrow();
    await expect(connectAs(broker.url, dr1, cred1.password, { clientId: dr2 })).rejects.toThrow(/Identifier rejected|code 2/i);
    await expect(connectAs(broker.url, 'lvsfleet-cloud', cred1.password)).rejects.toThrow();
  });

  it('lets a node subscribe to its own desired topic only and delivers only its own document', async () => {
    const cloud = await connect(broker.url, broker.internal.username, broker.internal.password, { clientId: 'cloud-test' });
    await cloud.publishAsync(topics.desired(dr1), 'doc-for-dr1', { qos: 1, retain: true });
    await cloud.publishAsync(topics.desired(dr2), 'doc-for-dr2', { qos: 1, retain: true });
    const node = await connect(broker.url, dr1, cred1.password);
    const got = collect(node);
    const codes = await subscribeCodes(node, [
      topics.desired(dr1),
      topics.desired(dr2),
      '#',
      'lvsfleet/v1/nodes/+/desired',
      '$SYS/#',
      `lvsfleet/v1/nodes/${dr1}/../${dr2}/desired`,
    ]);
    expect(codes).toEqual([1, 128, 128, 128, 128, 128]);
    // A message the cloud sends after the SUBACK arrives after anything the subscriptions let
    // through (retained messages go out with the SUBACK): once it is here, nothing else is coming.
    await cloud.publishAsync(topics.desired(dr1), 'marker', { qos: 1 });
    await waitFor(() => got.get(topics.desired(dr1))?.some((m) => String(m) === 'marker'), { what: 'marker after the retained desired', timeoutMs: 5000 });
    expect([...got.keys()]).toEqual([topics.desired(dr1)]);
    expect(got.get(topics.desired(dr1))!.map(String)).toEqual(['doc-for-dr1', 'marker']);
  });

  it('refuses a node publishing to another node, or a retained desired of its own (and disconnects it)', async () => {
    const cloud = await connect(broker.url, broker.internal.username, broker.internal.password, { clientId: 'cloud-watch' });
    const seen = collect(cloud);
    await cloud.subscribeAsync(['lvsfleet/v1/nodes/#'], { qos: 1 });
    const ok = await connect(broker.url, dr1, cred1.password);
    await ok.publishAsync(topics.status(dr1), JSON.stringify({ nodeId: dr1, online: true }), { qos: 1, retain: true });
    await waitFor(() => seen.get(topics.status(dr1)), { what: 'own status', timeoutMs: 5000 });

    for (const topic of [topics.status(dr2), topics.events(dr2), topics.desired(dr1)]) {
      const bad = await connect(broker.url, dr1, cred1.password);
      const closed = new Promise<'closed'>((r) => bad.once('close', () => r('closed')));
      // Refused means disconnected before any PUBACK; an accepted publish would be acknowledged.
      const acked = bad.publishAsync(topic, 'forged', { qos: 1, retain: true }).then(
        () => 'acked' as const,
        () => 'closed' as const,
      );
      expect(await Promise.race([closed, acked]), topic).toBe('closed');
    }
    // The broker forwards in the order it accepted: once a later status of dr1 reached the cloud,
    // a forged message it had let through would have too. (Each connection as dr1 took over the
    // one before, so the marker goes on a new one.)
    const later = await connect(broker.url, dr1, cred1.password);
    await later.publishAsync(topics.status(dr1), JSON.stringify({ nodeId: dr1, online: true, marker: true }), { qos: 1, retain: true });
    await waitFor(() => seen.get(topics.status(dr1))?.some((m) => String(m).includes('marker')), { what: 'marker status of dr1', timeoutMs: 5000 });
    expect(seen.get(topics.status(dr2))).toBeUndefined();
    expect(seen.get(topics.events(dr2))).toBeUndefined();
    // The retained desired document is still the cloud's.
    const again = await connect(broker.url, dr1, cred1.password);
    const got = collect(again);
    await again.subscribeAsync(topics.desired(dr1), { qos: 1 });
    await waitFor(() => got.get(topics.desired(dr1)), { what: 'retained desired', timeoutMs: 5000 });
    expect(got.get(topics.desired(dr1))!.map(String)).toEqual(['doc-for-dr1']);
    expect(lines.some((l) => l.includes(`may not publish to ${topics.status(dr2)}`))).toBe(true);
  });

  it('says which port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(startEmbeddedBroker({ port, db: d.db })).rejects.toThrow(`MQTT port ${port} is already in use`);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('close() ends connected clients', async () => {
    const other = await startEmbeddedBroker({ port: 0, db: d.db });
    const c = await connectAs(other.url, dr2, cred2.password);
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    await other.close();
    await closed;
    await expect(connectAs(other.url, dr2, cred2.password)).rejects.toThrow();
    await endQuietly(c);
  });
});

describe('failed logins (scrypt stays off a CONNECT flood)', () => {
  it('checks a bad credential once per window, and refuses an address after too many failures, even with good credentials', async () => {
    const seen: string[] = [];
    const b = await startEmbeddedBroker({ port: 0, db: d.db, log: (l) => seen.push(l), authLimits: { windowMs: 60_000, maxFailures: 3 } });
    try {
      // "refused …: bad credentials" is logged only after the real (scrypt) check.
      const checked = () => seen.filter((l) => l.includes('bad credentials')).length;
      for (let i = 0; i < 5; i++) await expect(connectAs(b.url, dr1, 'wrong')).rejects.toThrow(/Bad username or password|code 4/i);
      expect(checked()).toBe(1);
      await connect(b.url, dr1, cred1.password); // a good credential is not held back by another's failures
      for (const bad of ['wrong-2', 'wrong-3', 'wrong-4', 'wrong-5']) await expect(connectAs(b.url, dr2, bad)).rejects.toThrow();
      expect(checked()).toBe(3);
      await expect(connectAs(b.url, dr2, cred2.password)).rejects.toThrow(/Bad username or password|code 4/i);
    } finally {
      for (const c of clients.splice(0)) await endQuietly(c);
      await b.close();
    }
  });
});
