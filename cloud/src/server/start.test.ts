import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import mqtt from 'mqtt';
import { SEEDS_YAML } from '../../test/fixtures.test-support.ts';
import { DYNSEC_PLUGIN, MOSQUITTO_BIN, OwnMosquitto } from '../../test/mosquitto.test-support.ts';
import { openTestDatabase } from '../db/test-db.test-support.ts';
import { startServer, type RunningServer } from './start.ts';

const dir = mkdtempSync(join(tmpdir(), 'lvsfleet-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mosquittoSkip = !MOSQUITTO_BIN ? 'mosquitto not installed' : !DYNSEC_PLUGIN ? 'mosquitto_dynamic_security.so not installed' : false;
if (mosquittoSkip) console.log(`serve on Mosquitto skipped: ${mosquittoSkip}`);

/** A GET with exactly these headers (fetch would add and undo its own accept-encoding), the body as sent. */
function get(url: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** apply the seeds → enroll dr1 → dr1's MQTT client gets its signed document (what `serve` wires together). */
async function enrollAndReceive(s: RunningServer, token: string): Promise<void> {
  const auth = { authorization: `Bearer ${token}` };
  const applied = await fetch(`${s.url}/v1/sites/bj-dc1/spec`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/yaml' }, body: SEEDS_YAML });
  expect(applied.status).toBe(200);
  const { token: one } = await (await fetch(`${s.url}/v1/sites/bj-dc1/nodes/dr1/enrollment`, { method: 'POST', headers: auth })).json();
  const res = await fetch(`${s.url}/v1/agent/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: one }),
  });
  expect(res.status).toBe(200);
  const enrolled = (await res.json()) as { nodeId: string; mqtt: { url: string; username: string; password: string }; keys: JWK[] };
  const client = await mqtt.connectAsync(enrolled.mqtt.url, {
    username: enrolled.mqtt.username,
    password: enrolled.mqtt.password,
    clientId: enrolled.nodeId,
    reconnectPeriod: 0,
  });
  try {
    const got = new Promise<string>((resolve) => client.on('message', (_t, payload) => resolve(payload.toString())));
    await client.subscribeAsync(`lvsfleet/v1/nodes/${enrolled.nodeId}/desired`, { qos: 1 });
    const jws = await got;
    const key = enrolled.keys.find((k) => k.kid === decodeProtectedHeader(jws).kid);
    expect(key).toBeDefined();
    const { payload, protectedHeader } = await compactVerify(jws, await importJWK(key!, 'EdDSA'));
    expect(protectedHeader.alg).toBe('EdDSA');
    expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({ nodeId: 'bj-dc1.dr1', site: 'bj-dc1', revision: 1 });
  } finally {
    await client.endAsync();
  }
}

describe('startServer (what `lvsfleet serve` runs)', () => {
  it('with the embedded broker: apply, enroll, the node receives its signed document', async () => {
    const s = await startServer({ port: 0, host: '127.0.0.1', dataDir: join(dir, 'aedes'), mqttPort: 0, log: () => {} });
    try {
      expect(s.newAdminToken).toMatch(/^lvf_/);
      await enrollAndReceive(s, s.newAdminToken!);
      // Answers of 1 KiB or more go gzipped to a client that takes it, and the same bytes unzipped.
      const auth = { authorization: `Bearer ${s.newAdminToken}` };
      const plain = await get(`${s.url}/v1/sites/bj-dc1`, { ...auth, 'accept-encoding': 'identity' });
      const zipped = await get(`${s.url}/v1/sites/bj-dc1`, { ...auth, 'accept-encoding': 'gzip, deflate' });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(zipped.headers.vary).toMatch(/accept-encoding/i);
      expect(plain.body.length).toBeGreaterThan(1024);
      expect(zipped.body.length).toBeLessThan(plain.body.length / 2);
      expect(gunzipSync(zipped.body).toString()).toBe(plain.body.toString());
      // A small answer is not worth it; fetch (the CLI's) takes either.
      const small = await get(`${s.url}/v1/sites/nope`, { ...auth, 'accept-encoding': 'gzip' });
      expect([small.status, small.headers['content-encoding']]).toEqual([404, undefined]);
      expect(((await (await fetch(`${s.url}/v1/sites/bj-dc1`, { headers: auth })).json()) as { revision: number }).revision).toBe(1);
    } finally {
      await s.close();
    }
  }, 120_000);

  it.skipIf(!process.env.DATABASE_URL)(
    'with --database-url (PostgreSQL): the same flow, and data survives a restart',
    async () => {
      const pg = await openTestDatabase();
      try {
        const opts = { port: 0, host: '127.0.0.1', dataDir: join(dir, 'pg'), mqttPort: 0, databaseUrl: pg.url, log: () => {} };
        const s = await startServer(opts);
        expect(s.database).toBe('postgres');
        const token = s.newAdminToken!;
        try {
          await enrollAndReceive(s, token);
        } finally {
          await s.close();
        }
        const again = await startServer(opts);
        try {
          expect(again.newAdminToken).toBeNull();
          const res = await fetch(`${again.url}/v1/sites/bj-dc1`, { headers: { authorization: `Bearer ${token}` } });
          expect(((await res.json()) as { revision: number }).revision).toBe(1);
        } finally {
          await again.close();
        }
      } finally {
        await pg.close();
      }
    },
    120_000,
  );

  it.skipIf(mosquittoSkip)(
    'with --mqtt-url and --mqtt-dynsec on Mosquitto: enrollment provisions the node there',
    async () => {
      const password = randomBytes(12).toString('hex');
      const mosq = await OwnMosquitto.createWithDynsec('lvsfleet-cloud', password);
      await mosq.start();
      let s: RunningServer | undefined;
      try {
        s = await startServer({
          port: 0,
          host: '127.0.0.1',
          dataDir: join(dir, 'mosquitto'),
          mqttPort: 0,
          mqttUrl: `mqtt://lvsfleet-cloud:${password}@127.0.0.1:${mosq.port}`,
          mqttDynsec: true,
          log: () => {},
        });
        expect(s.mqttUrl).toBe(mosq.url);
        await enrollAndReceive(s, s.newAdminToken!);
      } finally {
        await s?.close();
        await mosq.dispose();
      }
    },
    120_000,
  );
});
