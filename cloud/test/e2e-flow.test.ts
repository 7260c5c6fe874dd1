import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, type JWK } from 'jose';
import type { MqttClient } from 'mqtt';
import { nodeStatus, outbox } from '../src/db/schema.ts';
import { call, randomPassword, startCloud, type BrokerPlan, type Cloud } from './harness.test-support.ts';
import { SEEDS_YAML as SEEDS } from './fixtures.test-support.ts';
import { collect, connectAs, endQuietly, subscribeCodes } from './mqtt-client.test-support.ts';
import { freePort } from './net.test-support.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { DYNSEC_PLUGIN, MOSQUITTO_BIN, OwnMosquitto } from './mosquitto.test-support.ts';
import { freshPostgres } from './pg.test-support.ts';
import { parseSite } from '#shared/site/parse.ts';
import { compileNode } from '#shared/compiler/compile.ts';
import { topics } from '#shared/wire/topics.ts';
import { EnrollResponse } from '#shared/wire/enroll.ts';
import { JWS_TYP } from '#shared/wire/desired.ts';

/**
 * Issue 2 "Prove it": serve → apply the seeds' DR site → enroll dr1 → dr1 receives a JWS that
 * verifies with the keys it pinned, for dr1 only, and cannot reach dr2's topics or `#`; restart →
 * revision, tokens and keys survive; broker down → apply → broker up → the new revision arrives.
 *
 * On Mosquitto the test runs its own instance with the dynamic-security plugin (infra/mosquitto):
 * the machine's broker at MQTT_URL allows anonymous clients, so ACLs could not be shown there.
 */
const CHANGED = SEEDS.replace('{ node: dr1, priority: 100, initialState: MASTER }', '{ node: dr1, priority: 120, initialState: MASTER }');
const dr1 = 'bj-dc1.dr1';
const dr2 = 'bj-dc1.dr2';

const pgSkip = !process.env.DATABASE_URL
  ? 'DATABASE_URL not set'
  : !MOSQUITTO_BIN
    ? 'mosquitto not installed'
    : !DYNSEC_PLUGIN
      ? 'mosquitto_dynamic_security.so not installed'
      : false;
if (pgSkip) console.log(`e2e flow on PostgreSQL + Mosquitto: skipped (${pgSkip})`);

const variants: { name: string; skip: string | false; pg: boolean; mosquitto: boolean }[] = [
  { name: 'PGlite + aedes', skip: false, pg: false, mosquitto: false },
  { name: 'PostgreSQL + Mosquitto (dynamic security)', skip: pgSkip, pg: true, mosquitto: true },
];

for (const v of variants) {
  describe.skipIf(!!v.skip)(`end-to-end flow on ${v.name}`, () => {
    let dataDir = '';
    let pg: Awaited<ReturnType<typeof freshPostgres>> | undefined;
    let mosq: OwnMosquitto | undefined;
    let aedesPort = 0;
    let adminPassword = '';
    let cloud: Cloud | undefined;
    let token = '';
    let enrollToken = '';
    let creds: { username: string; password: string };
    let keys: JWK[] = [];
    let firstJws = '';
    const clients: MqttClient[] = [];
    const logs: string[] = [];

    const plan = (): BrokerPlan =>
      v.mosquitto ? { kind: 'mosquitto', mosquitto: mosq!, adminPassword } : { kind: 'aedes', port: aedesPort, internalPassword: randomPassword() };
    const start = () => startCloud({ dataDir, databaseUrl: pg?.url, broker: plan(), log: (l) => logs.push(l) });
    const asDr1 = async () => {
      const c = await connectAs(cloud!.mqttUrl, creds.username, creds.password);
      clients.push(c);
      return c;
    };
    /** Subscribes as dr1 and answers the claims of the first document with at least `minRevision`. */
    async function receive(minRevision: number): Promise<{ jws: string; claims: any }> {
      const c = await asDr1();
      const got = collect(c);
      await c.subscribeAsync(topics.desired(dr1), { qos: 1 });
      const jwks = createLocalJWKSet({ keys });
      return waitFor(
        async () => {
          for (const p of got.get(topics.desired(dr1)) ?? []) {
            const { payload } = await compactVerify(p.toString(), jwks);
            const claims = JSON.parse(new TextDecoder().decode(payload));
            if (claims.revision >= minRevision) return { jws: p.toString(), claims };
          }
          return null;
        },
        { what: `dr1 desired revision ${minRevision}`, timeoutMs: 30_000 },
      );
    }

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'lvsfleet-e2e-'));
      if (v.pg) pg = await freshPostgres(process.env.DATABASE_URL!);
      if (v.mosquitto) {
        adminPassword = randomPassword();
        mosq = await OwnMosquitto.createWithDynsec('lvsfleet-cloud', adminPassword);
        await mosq.start();
      } else aedesPort = await freePort();
      cloud = await start();
      expect(cloud.newAdminToken).toBeTruthy();
      token = cloud.newAdminToken!;
    }, 120_000);
    afterAll(async () => {
      for (const c of clients) await endQuietly(c);
      await cloud?.close();
      await mosq?.dispose();
      await pg?.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('applies the seeds site and enrolls dr1', async () => {
      const applied = await call(cloud!.url, token, 'PUT', '/v1/sites/bj-dc1/spec', { yaml: SEEDS });
      expect(applied.status, JSON.stringify(applied.json)).toBe(200);
      expect(applied.json.revision).toBe(1);
      const t = await call(cloud!.url, token, 'POST', '/v1/sites/bj-dc1/nodes/dr1/enrollment');
      expect(t.status).toBe(200);
      enrollToken = t.json.token;
      const e = await call(cloud!.url, null, 'POST', '/v1/agent/enroll', { json: { token: enrollToken } });
      expect(e.status, JSON.stringify(e.json)).toBe(200);
      const body = EnrollResponse.parse(e.json);
      expect(body).toMatchObject({ nodeId: dr1, site: 'bj-dc1', node: 'dr1', mqtt: { url: cloud!.mqttUrl, username: dr1 } });
      creds = body.mqtt;
      keys = body.keys as JWK[];
    });

    it('dr1 receives its own signed config, verified with the pinned keys', async () => {
      const { jws, claims } = await receive(1);
      firstJws = jws;
      expect(decodeProtectedHeader(jws)).toEqual({ alg: 'EdDSA', kid: cloud!.signer.kid, typ: JWS_TYP });
      const site = parseSite(SEEDS);
      if (!site.ok) throw new Error('seeds invalid');
      expect(claims).toMatchObject({ nodeId: dr1, site: 'bj-dc1', revision: 1 });
      expect(claims.config).toEqual(compileNode(site.site, 'dr1'));
      expect(claims.config.node.name).toBe('dr1');
      expect(claims.config).not.toEqual(compileNode(site.site, 'dr2'));
    });

    it('dr1 cannot subscribe to dr2 or #, nor publish as dr2', async () => {
      const c = await asDr1();
      const got = collect(c);
      expect(await subscribeCodes(c, [topics.desired(dr2), '#', 'lvsfleet/v1/nodes/+/desired', topics.status(dr2)])).toEqual([128, 128, 128, 128]);
      await new Promise((r) => setTimeout(r, 500));
      expect(got.size).toBe(0);
      const forged = JSON.stringify({ nodeId: dr2, online: true, appliedRevision: 99 });
      await Promise.race([c.publishAsync(topics.status(dr2), forged, { qos: 1, retain: true }).catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
      // dr1's own report goes through (so the ingest was listening), dr2's forged one did not.
      const own = await asDr1();
      await own.publishAsync(topics.status(dr1), JSON.stringify({ nodeId: dr1, online: true, appliedRevision: 1 }), { qos: 1, retain: true });
      const rows = () => cloud!.db.db.select().from(nodeStatus);
      await waitFor(async () => (await rows()).some((r) => r.nodeId === dr1), { what: 'dr1 status ingested', timeoutMs: 15_000 });
      expect((await rows()).map((r) => r.nodeId)).toEqual([dr1]);
      const status = await call(cloud!.url, token, 'GET', '/v1/sites/bj-dc1/status');
      expect(status.status).toBe(200);
      expect(JSON.stringify(status.json)).not.toContain('"appliedRevision":99');
    });

    it('a restart keeps the revision, the tokens and the keys', async () => {
      const kid = cloud!.signer.kid;
      await cloud!.close();
      cloud = await start();
      expect(cloud.newAdminToken).toBeNull();
      expect(cloud.signer.kid).toBe(kid);
      const site = await call(cloud.url, token, 'GET', '/v1/sites/bj-dc1');
      expect(site.status).toBe(200);
      expect(site.json.revision).toBe(1);
      const again = await call(cloud.url, null, 'POST', '/v1/agent/enroll', { json: { token: enrollToken } });
      expect(again.status).toBe(401);
      await expect(compactVerify(firstJws, createLocalJWKSet({ keys: await cloud.signer.publicJwks() }))).resolves.toBeTruthy();
      // dr1's credentials still log in, and its document is there (again) after the restart.
      // Byte-identical (Ed25519 is deterministic): the agent sees a re-delivery, not a replay.
      const { claims, jws } = await receive(1);
      expect(claims.revision).toBe(1);
      expect(jws).toBe(firstJws);
    }, 120_000);

    it('broker down → apply → broker up: the new revision arrives', async () => {
      await cloud!.stopBroker();
      const applied = await call(cloud!.url, token, 'PUT', '/v1/sites/bj-dc1/spec', { yaml: CHANGED });
      expect(applied.status, JSON.stringify(applied.json)).toBe(200);
      expect(applied.json.revision).toBe(2);
      await cloud!.publisher.drain();
      const waiting = await cloud!.db.db.select().from(outbox).where(eq(outbox.nodeId, dr1));
      const row2 = waiting.find((r) => r.revision === 2)!;
      expect(row2).toMatchObject({ status: 'failed', publishedAt: null });
      expect(row2.attempts).toBeGreaterThanOrEqual(1);
      await cloud!.startBroker();
      const { claims } = await receive(2);
      expect(claims.revision).toBe(2);
      expect(claims.config.vrrp.instances[0].priority).toBe(120);
    });
  });
}
