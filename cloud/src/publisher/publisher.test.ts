import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { compactVerify, createLocalJWKSet } from 'jose';
import mqtt, { type MqttClient } from 'mqtt';
import { openDatabase, type Database } from '../db/client.ts';
import { nodes, outbox } from '../db/schema.ts';
import { loadSigner, type Signer } from '../keys/signing.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../mqtt/broker.ts';
import { startPublisher, type Publisher } from './publisher.ts';
import { applySite, type WrittenRow } from '../sites/apply.ts';
import { claimsFor, insertSite, runName, seedsSite } from '../../test/fixtures.test-support.ts';
import { collect, connectAs, endQuietly } from '../../test/mqtt-client.test-support.ts';
import { freePort } from '../../test/net.test-support.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { MOSQUITTO_BIN, OwnMosquitto } from '../../test/mosquitto.test-support.ts';
import { freshPostgres } from '../../test/pg.test-support.ts';
import { nodeIdOf, topics } from '#shared/wire/topics.ts';
import { unverifiedClaims } from '../../test/jws.test-support.ts';

/** A broker the test can stop and start again on the same port. */
interface TestBroker {
  url: string;
  username?: string;
  password?: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** False between stop() and start(). */
  readonly running: boolean;
  dispose(): Promise<void>;
}

async function aedesBroker(db: Database['db']): Promise<TestBroker> {
  const port = await freePort();
  const password = 'test-internal-password-0123456789';
  let b: EmbeddedBroker | null = null;
  const tb: TestBroker = {
    url: `mqtt://127.0.0.1:${port}`,
    username: 'lvsfleet-cloud',
    password,
    async start() {
      b = await startEmbeddedBroker({ port, db, internalPassword: password });
    },
    async stop() {
      await b?.close();
      b = null;
    },
    get running() {
      return b !== null;
    },
    dispose: () => tb.stop(),
  };
  await tb.start();
  return tb;
}

async function mosquittoBroker(): Promise<TestBroker> {
  const m = await OwnMosquitto.create(() => 'allow_anonymous true');
  await m.start();
  return {
    url: m.url,
    start: () => m.start(),
    stop: () => m.stop(),
    get running() {
      return m.proc !== null;
    },
    dispose: () => m.dispose(),
  };
}

const variants: { name: string; skip: string | false; broker: (db: Database['db']) => Promise<TestBroker>; db: 'pglite' | 'postgres'; fixed?: boolean }[] = [
  { name: 'PGlite + aedes', skip: false, broker: aedesBroker, db: 'pglite' },
  {
    name: 'PostgreSQL + own Mosquitto',
    skip: !process.env.DATABASE_URL ? 'DATABASE_URL not set' : !MOSQUITTO_BIN ? 'mosquitto not installed' : false,
    broker: mosquittoBroker,
    db: 'postgres',
  },
  { name: 'PGlite + own Mosquitto', skip: !MOSQUITTO_BIN ? 'mosquitto not installed' : false, broker: mosquittoBroker, db: 'pglite' },
  // The machine's broker (anonymous, shared): publishing only; it is not ours to stop.
  { name: 'PGlite + MQTT_URL', skip: !process.env.MQTT_URL ? 'MQTT_URL not set' : false, broker: urlBroker, db: 'pglite', fixed: true },
];

async function urlBroker(): Promise<TestBroker> {
  const url = process.env.MQTT_URL!;
  const fail = () => Promise.reject(new Error('the MQTT_URL broker is not ours to stop'));
  return { url, start: fail, stop: fail, running: true, dispose: () => Promise.resolve() };
}

for (const v of variants) {
  if (v.skip) console.log(`publisher on ${v.name}: skipped (${v.skip})`);
  describe.skipIf(!!v.skip)(`publisher on ${v.name}`, () => {
    const site = seedsSite(runName('pub'));
    const name = site.metadata.name;
    const id = (n: string) => nodeIdOf(name, n);
    let d: Database;
    let pg: Awaited<ReturnType<typeof freshPostgres>> | undefined;
    let signer: Signer;
    let broker: TestBroker;
    let pub: Publisher;
    const clients: MqttClient[] = [];
    const logs: string[] = [];

    async function watcher(): Promise<Map<string, Buffer[]>> {
      const c = await connectAs(broker.url, broker.username, broker.password, { clientId: `watch-${Math.random().toString(36).slice(2)}` });
      clients.push(c);
      const got = collect(c);
      await c.subscribeAsync(
        site.spec.nodes.map((n) => topics.desired(id(n.name))),
        { qos: 1 },
      );
      return got;
    }
    async function watcherOf(nodeIds: string[]): Promise<Map<string, Buffer[]>> {
      const c = await connectAs(broker.url, broker.username, broker.password, { clientId: `late-${Math.random().toString(36).slice(2)}` });
      clients.push(c);
      const got = collect(c);
      await c.subscribeAsync(
        nodeIds.map((n) => topics.desired(n)),
        { qos: 1 },
      );
      return got;
    }
    async function revisionsOf(payloads: Buffer[] | undefined): Promise<number[]> {
      const keys = createLocalJWKSet({ keys: await signer.publicJwks() });
      const out: number[] = [];
      for (const p of payloads ?? []) {
        const { payload } = await compactVerify(p.toString(), keys);
        out.push(JSON.parse(new TextDecoder().decode(payload)).revision);
      }
      return out;
    }
    const rowsOf = (nodeId: string) => d.db.select().from(outbox).where(eq(outbox.nodeId, nodeId)).orderBy(outbox.id);

    beforeAll(async () => {
      if (v.db === 'postgres') pg = await freshPostgres(process.env.DATABASE_URL!);
      d = await openDatabase({ url: pg?.url });
      await insertSite(d.db, site);
      signer = await loadSigner(d.db);
      broker = await v.broker(d.db);
      pub = await startPublisher({
        db: d.db,
        mqttUrl: broker.url,
        username: broker.username,
        password: broker.password,
        signer,
        pollMs: 100,
        log: (l) => logs.push(l),
      });
    });
    // A test that stopped the broker and failed before starting it again would fail the ones after it too.
    afterEach(async () => {
      if (broker && !broker.running) await broker.start();
    });
    afterAll(async () => {
      // Clear the retained documents this run left on a shared broker.
      if (v.fixed && broker) {
        const c = await connectAs(broker.url, undefined, undefined);
        for (const n of site.spec.nodes) await c.publishAsync(topics.desired(id(n.name)), '', { qos: 1, retain: true });
        await endQuietly(c);
      }
      for (const c of clients) await endQuietly(c);
      await pub?.close();
      await broker?.dispose();
      await d?.close();
      await pg?.drop();
    });

    it('publishes each node its newest revision, signed and retained, and marks older rows skipped', async () => {
      const seen = await watcher();
      // One statement, as apply writes them in one transaction (the poll must not see half).
      await d.db
        .insert(outbox)
        .values([
          ...site.spec.nodes.map((n) => ({ nodeId: id(n.name), siteId: `site_${name}`, revision: 1, claims: claimsFor(site, n.name, 1) })),
          { nodeId: id('dr1'), siteId: `site_${name}`, revision: 2, claims: claimsFor(site, 'dr1', 2) },
        ]);
      await pub.drain();
      await waitFor(() => site.spec.nodes.every((n) => seen.get(topics.desired(id(n.name)))), { what: 'all four documents', timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 200));
      expect(await revisionsOf(seen.get(topics.desired(id('dr1'))))).toEqual([2]);
      expect(await revisionsOf(seen.get(topics.desired(id('rs2'))))).toEqual([1]);
      const rows = await rowsOf(id('dr1'));
      expect(rows.map((r) => [r.revision, r.status, r.publishedAt !== null, r.skippedReason])).toEqual([
        [1, 'skipped', false, 'superseded by revision 2'],
        [2, 'published', true, null],
      ]);
      // A late subscriber gets the retained document.
      const late = await watcher();
      await waitFor(() => late.get(topics.desired(id('dr1'))), { what: 'retained', timeoutMs: 5000 });
      expect(await revisionsOf(late.get(topics.desired(id('dr1'))))).toEqual([2]);
      const { payload } = await compactVerify(late.get(topics.desired(id('dr1')))![0].toString(), createLocalJWKSet({ keys: await signer.publicJwks() }));
      expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({ nodeId: id('dr1'), site: name, revision: 2 });
    });

    it('skips a revision older than the one already published', async () => {
      const seen = await watcher();
      await waitFor(() => seen.get(topics.desired(id('dr1'))), { what: 'retained', timeoutMs: 5000 });
      await d.db.insert(outbox).values({ nodeId: id('dr1'), siteId: `site_${name}`, revision: 1, claims: claimsFor(site, 'dr1', 1) });
      expect(await pub.drain()).toBe(0);
      const rows = await rowsOf(id('dr1'));
      expect(rows.at(-1)).toMatchObject({ revision: 1, status: 'skipped', skippedReason: 'revision 2 already published', publishedAt: null });
      expect(await revisionsOf(seen.get(topics.desired(id('dr1'))))).toEqual([2]);
    });

    it.skipIf(v.fixed)('keeps rows while the broker is down, backs off, and publishes when it is back', async () => {
      await broker.stop();
      await d.db.insert(outbox).values({ nodeId: id('dr1'), siteId: `site_${name}`, revision: 3, claims: claimsFor(site, 'dr1', 3) });
      // The publisher's log says what it reached instead, should anything answer on the broker's port.
      expect(await pub.drain(), logs.join('\n')).toBe(0);
      const [row] = (await rowsOf(id('dr1'))).filter((r) => r.revision === 3);
      expect(row, logs.join('\n')).toMatchObject({ status: 'failed', publishedAt: null, attempts: 1 });
      expect(row.lastError, logs.join('\n')).toMatch(/broker unreachable|broker not connected|Connection closed/i);
      expect(row.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() - 100);
      await new Promise((r) => setTimeout(r, 1200));
      await broker.start();
      await waitFor(async () => (await rowsOf(id('dr1'))).find((r) => r.revision === 3)?.status === 'published', {
        what: 'revision 3 published',
        timeoutMs: 20_000,
      });
      const seen = await watcher();
      await waitFor(() => seen.get(topics.desired(id('dr1'))) && seen.get(topics.desired(id('rs1'))), { what: 'retained after restart', timeoutMs: 10_000 });
      expect(await revisionsOf(seen.get(topics.desired(id('dr1'))))).toEqual([3]);
      // Nodes without news still have their last document (republished if the broker forgot it).
      expect(await revisionsOf(seen.get(topics.desired(id('rs1'))))).toEqual([1]);
    });

    it.skipIf(v.fixed)('loses and reorders nothing when the broker drops in the middle of a drain and comes back on the same port', async () => {
      // A second site of N nodes (rows only: the publisher reads claims, not specs).
      const N = 300;
      const many = `${name}m`;
      const siteId = await insertSite(d.db, seedsSite(many));
      const ids = Array.from({ length: N }, (_, i) => nodeIdOf(many, `n${i}`));
      await d.db
        .insert(nodes)
        .values(ids.map((nodeId, i) => ({ id: nodeId, siteId, name: `n${i}`, role: 'realserver' as const, address: `10.1.${i >> 8}.${i & 255}` })));
      const base = claimsFor(seedsSite(many), 'rs1', 1);
      const rows = (revision: number, which: string[]) => which.map((nodeId) => ({ nodeId, siteId, revision, claims: { ...base, nodeId, revision } }));
      // Every revision each node's subscriber saw, in order; it reconnects and resubscribes by itself.
      const seenBy = new Map<string, number[]>();
      const w = await mqtt.connectAsync(broker.url, {
        username: broker.username,
        password: broker.password,
        reconnectPeriod: 200,
        clientId: `drop-${Date.now()}`,
      });
      clients.push(w);
      w.on('message', (topic, payload) => {
        const nodeId = topic.split('/')[3];
        const claims = unverifiedClaims<{ nodeId: string; revision: number }>(payload);
        expect(claims.nodeId).toBe(nodeId);
        seenBy.set(nodeId, [...(seenBy.get(nodeId) ?? []), claims.revision]);
      });
      await w.subscribeAsync(
        ids.map((n) => topics.desired(n)),
        { qos: 1 },
      );

      // A signer held back a little per document, so the drain outlasts the first receipts.
      let pace = Promise.resolve();
      const slow: Signer = {
        get kid() {
          return signer.kid;
        },
        get generation() {
          return signer.generation;
        },
        sign: (claims) => (pace = pace.then(() => new Promise((r) => setTimeout(r, 3)))).then(() => signer.sign(claims)),
        publicJwks: () => signer.publicJwks(),
        reload: () => signer.reload(),
      };
      await pub.close();
      pub = await startPublisher({
        db: d.db,
        mqttUrl: broker.url,
        username: broker.username,
        password: broker.password,
        signer: slow,
        pollMs: 100,
        log: (l) => logs.push(l),
      });

      await d.db.insert(outbox).values(rows(1, ids));
      pub.kick();
      await waitFor(() => seenBy.size > 0, { what: 'the first documents', intervalMs: 5, timeoutMs: 20_000 });
      await broker.stop();
      const before = seenBy.size;
      // While it is down, half the nodes get a newer revision.
      const newer = ids.filter((_, i) => i % 2 === 0);
      await d.db.insert(outbox).values(rows(2, newer));
      await new Promise((r) => setTimeout(r, 300));
      await broker.start();

      const open = async () =>
        (await d.db.select().from(outbox).where(eq(outbox.siteId, siteId))).filter((r) => r.status === 'pending' || r.status === 'failed');
      await waitFor(async () => (await open()).length === 0, { what: 'every row published or skipped', timeoutMs: 60_000, intervalMs: 100 });
      const all = await d.db.select().from(outbox).where(eq(outbox.siteId, siteId));
      // The drop did cut the drain: some documents failed and went out on a later attempt.
      expect(before).toBeLessThan(N);
      expect(all.some((r) => r.lastError !== null)).toBe(true);
      const newest = (nodeId: string) => (newer.includes(nodeId) ? 2 : 1);
      for (const nodeId of ids) {
        const mine = all.filter((r) => r.nodeId === nodeId);
        expect(mine.find((r) => r.revision === newest(nodeId))?.status).toBe('published');
      }
      // Every node's subscriber ends on its newest revision and never saw an older one after a newer one.
      await waitFor(() => ids.every((n) => seenBy.get(n)?.at(-1) === newest(n)), { what: 'every node on its newest revision', timeoutMs: 20_000 });
      for (const n of ids) {
        const got = seenBy.get(n)!;
        expect(got, n).toEqual([...got].sort((a, b) => a - b));
      }
      // And the broker keeps it: a subscriber arriving now gets each node's newest document.
      const late = await watcherOf(ids);
      await waitFor(() => ids.every((n) => late.get(topics.desired(n))), { what: 'retained documents', timeoutMs: 20_000 });
      for (const n of ids) expect(await revisionsOf(late.get(topics.desired(n)))).toEqual([newest(n)]);
    });

    it('publishes rows an apply hands over without reading the outbox, never an older document after a newer one, and a lost hand-off from the outbox', async () => {
      // A publisher that never polls: only its kicks and hand-offs drain.
      await pub.close();
      pub = await startPublisher({ db: d.db, mqttUrl: broker.url, username: broker.username, password: broker.password, signer, pollMs: 3_600_000 });
      await pub.drain();
      const hs = `${name}h`;
      const hsite = { ...seedsSite(hs), spec: { ...seedsSite(hs).spec, rollout: { enabled: false } } } as typeof site;
      const siteId = await insertSite(d.db, hsite);
      const ids = hsite.spec.nodes.map((n) => nodeIdOf(hs, n.name));
      const seen = await watcherOf(ids);
      const revs = async () => Promise.all(ids.map(async (n) => revisionsOf(seen.get(topics.desired(n)))));
      const moved = (vip: string) => {
        const s2 = structuredClone(hsite);
        s2.spec.services![0].vip = vip;
        s2.spec.vrrp![0].vips = [`${vip}/24`];
        return s2;
      };
      const apply = async (s2: typeof site, handoff: (rows: WrittenRow[]) => void) => applySite(d.db, { orgId: 'org_test', site: s2, author: 't' }, handoff);
      const open = async (revision: number) =>
        (await d.db.select().from(outbox).where(eq(outbox.siteId, siteId))).filter((r) => r.revision === revision && ['pending', 'failed'].includes(r.status));

      // Revision 1's hand-off is lost: its rows wait in the outbox.
      const r1 = await apply(hsite, () => {});
      // Revision 2 is handed over: published at once, and revision 1's rows were not read (still open).
      let second: WrittenRow[] = [];
      const r2 = await apply(moved('192.168.1.210'), (rows) => {
        second = rows;
        pub.handoff(rows);
      });
      expect(second.map((r) => r.nodeId).sort()).toEqual(r2.publishedNodes.map((n) => nodeIdOf(hs, n)).sort());
      await waitFor(() => ids.every((n) => seen.get(topics.desired(n))), { what: 'the handed-over documents', timeoutMs: 10_000 });
      expect(await revs()).toEqual(ids.map(() => [2]));
      expect((await open(r1.revision)).length).toBe(r1.publishedNodes.length);
      // A subscriber can hold a document before the publisher has its PUBACK and marks the row.
      const published2 = async () => (await d.db.select().from(outbox).where(eq(outbox.siteId, siteId))).filter((r) => r.revision === 2);
      await waitFor(async () => (await published2()).every((r) => r.status === 'published' && r.publishedAt !== null), {
        what: "revision 2's rows marked published",
        timeoutMs: 10_000,
      });

      // A drain that reads the outbox closes revision 1's rows without publishing them (revision 2 went out).
      await pub.drain();
      expect(await open(r1.revision)).toEqual([]);
      // Revision 3's hand-off is lost too: a reading drain (kick, poll) publishes it from the outbox.
      const r3 = await apply(moved('192.168.1.211'), () => {});
      expect((await open(r3.revision)).length).toBe(ids.length);
      pub.kick();
      await waitFor(async () => (await open(r3.revision)).length === 0, { what: 'revision 3 from the outbox', timeoutMs: 10_000 });
      // Revision 2's rows handed over again, late: nothing goes out (revision 3 is published).
      pub.handoff(second);
      await pub.drain();
      await new Promise((r) => setTimeout(r, 300));
      await waitFor(async () => (await revs()).every((r) => r.at(-1) === 3), { what: 'revision 3 received', timeoutMs: 10_000 });
      expect(await revs()).toEqual(ids.map(() => [2, 3]));
    });

    it('a drain that reads a full batch from the outbox reads the rest at once, not at the next poll', async () => {
      // Never polls, and reads two rows at a time: the site's rows need several reads.
      await pub.close();
      pub = await startPublisher({ db: d.db, mqttUrl: broker.url, username: broker.username, password: broker.password, signer, pollMs: 3_600_000, batch: 2 });
      await pub.drain();
      const bs = `${name}b`;
      const bsite = { ...seedsSite(bs), spec: { ...seedsSite(bs).spec, rollout: { enabled: false } } } as typeof site;
      const siteId = await insertSite(d.db, bsite);
      const ids = bsite.spec.nodes.map((n) => nodeIdOf(bs, n.name));
      expect(ids.length).toBeGreaterThan(2);
      const seen = await watcherOf(ids);
      // A new revision that changes every node, its hand-off lost: its rows wait in the outbox.
      const moved = structuredClone(bsite);
      moved.spec.services![0].vip = '192.168.1.220';
      moved.spec.vrrp![0].vips = ['192.168.1.220/24'];
      const r = await applySite(d.db, { orgId: 'org_test', site: moved, author: 't' }, () => {});
      const open = async () => (await d.db.select().from(outbox).where(eq(outbox.siteId, siteId))).filter((o) => o.status !== 'published');
      expect(r.publishedNodes.length).toBe(ids.length);
      expect((await open()).length).toBe(ids.length);
      pub.kick();
      await waitFor(async () => (await open()).length === 0, { what: 'every row published after one kick', timeoutMs: 10_000 });
      await waitFor(() => ids.every((n) => seen.get(topics.desired(n))), { what: 'every document received', timeoutMs: 10_000 });
    });
  });
}
