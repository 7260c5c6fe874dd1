import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asc, eq, sql } from 'drizzle-orm';
import type { MqttClient } from 'mqtt';
import { openDatabase, type Database } from '../db/client.ts';
import { events, nodeStatus } from '../db/schema.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../mqtt/broker.ts';
import { issueNodeCredentials } from '../mqtt/credentials.ts';
import { startIngest, type Ingest } from './ingest.ts';
import { insertSite, runName, seedsSite } from '../../test/fixtures.test-support.ts';
import { connectAs, endQuietly } from '../../test/mqtt-client.test-support.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { MOSQUITTO_BIN, OwnMosquitto } from '../../test/mosquitto.test-support.ts';
import { freshPostgres } from '../../test/pg.test-support.ts';
import { lastWill } from '#shared/wire/status.ts';
import { nodeIdOf, topics } from '#shared/wire/topics.ts';

const variants = [
  { name: 'PGlite + aedes', skip: false as string | false, mosquitto: false, postgres: false },
  {
    name: 'PostgreSQL + own Mosquitto',
    skip: !process.env.DATABASE_URL ? 'DATABASE_URL not set' : !MOSQUITTO_BIN ? 'mosquitto not installed' : false,
    mosquitto: true,
    postgres: true,
  },
];

for (const v of variants) {
  if (v.skip) console.log(`ingest on ${v.name}: skipped (${v.skip})`);
  describe.skipIf(!!v.skip)(`ingest on ${v.name}`, () => {
    const site = seedsSite(runName('ing'));
    const dr1 = nodeIdOf(site.metadata.name, 'dr1');
    let d: Database;
    let pg: Awaited<ReturnType<typeof freshPostgres>> | undefined;
    let aedes: EmbeddedBroker | undefined;
    let mosq: OwnMosquitto | undefined;
    let url: string;
    let ingest: Ingest;
    let node: { username?: string; password?: string } = {};
    const clients: MqttClient[] = [];

    beforeAll(async () => {
      if (v.postgres) pg = await freshPostgres(process.env.DATABASE_URL!);
      d = await openDatabase({ url: pg?.url });
      await insertSite(d.db, site);
      let internal: { username?: string; password?: string } = {};
      if (v.mosquitto) {
        mosq = await OwnMosquitto.create(() => 'allow_anonymous true');
        await mosq.start();
        url = mosq.url;
      } else {
        aedes = await startEmbeddedBroker({ port: 0, db: d.db });
        url = aedes.url;
        internal = aedes.internal;
        node = await issueNodeCredentials(d.db, dr1);
      }
      ingest = await startIngest({ db: d.db, mqttUrl: url, ...internal });
      await ingest.ready;
    });
    afterAll(async () => {
      for (const c of clients) await endQuietly(c);
      await ingest?.close();
      await aedes?.close();
      await mosq?.dispose();
      await d?.close();
      await pg?.drop();
    });

    const statusRow = async () => (await d.db.select().from(nodeStatus).where(eq(nodeStatus.nodeId, dr1)))[0];
    const eventTypes = async () => (await d.db.select().from(events).where(eq(events.nodeId, dr1)).orderBy(asc(events.id))).map((e) => e.type);

    /** Holds a node's status row locked (on PGlite: the one transaction), so a batch holding that node waits; answers the release. */
    async function holdRow(nodeId: string): Promise<() => Promise<void>> {
      await d.db.insert(nodeStatus).values({ nodeId }).onConflictDoNothing();
      let release: () => void = () => {};
      let locked: () => void = () => {};
      const isLocked = new Promise<void>((r) => (locked = r));
      const holding = d.db.transaction(async (tx) => {
        await tx.select().from(nodeStatus).where(eq(nodeStatus.nodeId, nodeId)).for('update');
        locked();
        await new Promise<void>((r) => (release = r));
      });
      await isLocked;
      return async () => {
        release();
        await holding;
      };
    }

    /**
     * Runs a test on `names`' own ingest, then takes away what the shared ingest stored of those
     * nodes meanwhile: the tests after it look at dr1 and dr2's rows and events alone.
     */
    async function isolated(names: string[], opts: { maxPending?: number }, body: (small: Ingest, conn: (n: string) => Promise<MqttClient>) => Promise<void>) {
      const ids = names.map((n) => nodeIdOf(site.metadata.name, n));
      const small = await startIngest({ db: d.db, mqttUrl: url, ...(aedes?.internal ?? {}), ...opts });
      const mine: MqttClient[] = [];
      try {
        await small.ready;
        const conn = async (n: string) => {
          const id = nodeIdOf(site.metadata.name, n);
          const creds: { username?: string; password?: string } = v.mosquitto ? {} : await issueNodeCredentials(d.db, id);
          const c = await connectAs(url, creds.username, creds.password, { clientId: id });
          mine.push(c);
          return c;
        };
        await body(small, conn);
      } finally {
        for (const c of mine) await endQuietly(c);
        await small.close();
        await ingest.close();
        for (const id of ids) {
          await d.db.delete(nodeStatus).where(eq(nodeStatus.nodeId, id));
          await d.db.delete(events).where(eq(events.nodeId, id));
        }
        ingest = await startIngest({ db: d.db, mqttUrl: url, ...(aedes?.internal ?? {}) });
        await ingest.ready;
      }
    }
    const at = (s: number) => new Date(Date.now() - 10_000 + s * 1000).toISOString();

    // These two first: the broker holds no retained status yet, which a new subscriber would take into its batches.
    it('refuses messages past its backlog while the database holds its batch, and stores the ones it kept', async () => {
      await isolated(['rs1'], { maxPending: 1 }, async (small, conn) => {
        const rs1 = nodeIdOf(site.metadata.name, 'rs1');
        // Connected first: the embedded broker checks credentials in the database.
        const c = await conn('rs1');
        const release = await holdRow(rs1);
        try {
          await c.publishAsync(topics.status(rs1), JSON.stringify({ nodeId: rs1, online: true, at: at(1), appliedRevision: 1 }), { qos: 1 });
          // The first is being stored (held by the lock); the second waits; the third finds the backlog full.
          await new Promise((r) => setTimeout(r, 200));
          expect(small.stats().accepted).toBe(0);
          await c.publishAsync(topics.status(rs1), JSON.stringify({ nodeId: rs1, online: true, at: at(2), appliedRevision: 2 }), { qos: 1 });
          await c.publishAsync(topics.status(rs1), JSON.stringify({ nodeId: rs1, online: true, at: at(3), appliedRevision: 3 }), { qos: 1 });
          await waitFor(() => small.stats().rejected.backlog === 1, { what: 'the third refused', timeoutMs: 10_000 });
        } finally {
          await release();
        }
        await waitFor(() => small.stats().accepted === 2, { what: 'the first two stored', timeoutMs: 10_000 });
        expect(small.stats().rejected.backlog).toBe(1);
      });
    });

    it('drops alone a report the database refuses, and stores the rest of its batch', async () => {
      await isolated(['rs1', 'rs2', 'dr2'], {}, async (small, conn) => {
        const [rs1, rs2, dr2] = ['rs1', 'rs2', 'dr2'].map((n) => nodeIdOf(site.metadata.name, n));
        const [c1, c2, c3] = [await conn('rs1'), await conn('rs2'), await conn('dr2')];
        await d.db.execute(sql`ALTER TABLE events ADD CONSTRAINT test_refuse CHECK (data->>'error' IS DISTINCT FROM 'refuse me')`);
        try {
          const release = await holdRow(rs1);
          try {
            await c1.publishAsync(topics.status(rs1), JSON.stringify({ nodeId: rs1, online: true, at: at(1), appliedRevision: 1 }), { qos: 1 });
            await new Promise((r) => setTimeout(r, 200));
            // The next batch: an event the database refuses (a constraint this test adds) and dr2's report.
            // (With Mosquitto both wait in ingest; the embedded broker checks each publish in the
            // held database first, so there they may come in two batches and the outcome is all this shows.)
            const refused = { nodeId: rs2, at: at(2), type: 'apply.failed', data: { revision: 1, error: 'refuse me' } };
            await c2.publishAsync(topics.events(rs2), JSON.stringify(refused), { qos: 1 });
            await c3.publishAsync(topics.status(dr2), JSON.stringify({ nodeId: dr2, online: true, at: at(2), appliedRevision: 7 }), { qos: 1 });
          } finally {
            await release();
          }
          await waitFor(() => small.stats().accepted === 2, { what: "rs1's and dr2's reports stored", timeoutMs: 10_000 });
          const [row] = await d.db.select().from(nodeStatus).where(eq(nodeStatus.nodeId, dr2));
          expect(row).toMatchObject({ online: true, appliedRevision: 7 });
          expect(await d.db.select().from(events).where(eq(events.nodeId, rs2))).toEqual([]);
        } finally {
          await d.db.execute(sql`ALTER TABLE events DROP CONSTRAINT test_refuse`);
        }
      });
    });

    it('stores status, events and presence; refuses bad payloads; marks the node offline from its last will', async () => {
      const c = await connectAs(url, node.username, node.password, {
        clientId: dr1,
        will: { topic: topics.status(dr1), payload: Buffer.from(JSON.stringify(lastWill(dr1))), qos: 1, retain: true },
      });
      clients.push(c);
      await c.publishAsync(topics.status(dr1), JSON.stringify({ nodeId: dr1, online: true, appliedRevision: 4, agentVersion: '0.1.0' }), {
        qos: 1,
        retain: true,
      });
      await waitFor(async () => (await statusRow())?.online, { what: 'online status', timeoutMs: 10_000 });
      expect(await statusRow()).toMatchObject({ online: true, appliedRevision: 4 });
      await c.publishAsync(
        topics.events(dr1),
        JSON.stringify({
          nodeId: dr1,
          at: new Date().toISOString(),
          type: 'vrrp.transition',
          data: { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'higher priority' },
        }),
        { qos: 1 },
      );
      await c.publishAsync(topics.events(dr1), '{"nodeId":', { qos: 1 });
      await c.publishAsync(topics.events(dr1), JSON.stringify({ nodeId: dr1, at: new Date().toISOString(), type: 'made.up', data: {} }), { qos: 1 });
      await c.publishAsync(topics.status(dr1), JSON.stringify({ nodeId: nodeIdOf(site.metadata.name, 'dr2'), online: true }), { qos: 1 });
      await waitFor(async () => (await eventTypes()).includes('vrrp.transition'), { what: 'event stored', timeoutMs: 10_000 });
      await waitFor(() => ingest.stats().rejected.node_mismatch === 1, { what: 'mismatch counted', timeoutMs: 10_000 });
      expect(ingest.stats().rejected).toMatchObject({ json: 1, schema: 1, node_mismatch: 1 });
      expect((await d.db.select().from(nodeStatus)).map((r) => r.nodeId)).toEqual([dr1]);

      // Vanish without DISCONNECT: the broker publishes the will.
      c.stream.destroy();
      await waitFor(async () => (await statusRow())?.online === false, { what: 'offline from will', timeoutMs: 15_000 });
      expect(await statusRow()).toMatchObject({ online: false, appliedRevision: 4 });
      expect((await statusRow()).status).toMatchObject({ agentVersion: '0.1.0', online: false });
      // Three refused messages, one node.misbehaving: it is raised at most once per node per window.
      expect(await eventTypes()).toEqual(['node.online', 'vrrp.transition', 'node.misbehaving', 'node.offline']);
      const [ev] = await d.db.select().from(events).where(eq(events.type, 'vrrp.transition'));
      expect(ev.siteId).toBe(`site_${site.metadata.name}`);
    });

    it('two replicas (and one running behind) store a node event once and raise presence once', async () => {
      const dr2 = nodeIdOf(site.metadata.name, 'dr2');
      const creds: { username?: string; password?: string } = v.mosquitto ? {} : await issueNodeCredentials(d.db, dr2);
      const second = await startIngest({ db: d.db, mqttUrl: url, ...(aedes?.internal ?? {}) });
      try {
        await second.ready;
        const c = await connectAs(url, creds.username, creds.password, { clientId: dr2 });
        clients.push(c);
        const t1 = new Date(Date.now() - 2_000).toISOString();
        const t3 = new Date().toISOString();
        const event = { nodeId: dr2, at: t1, type: 'vrrp.transition', data: { instance: 'VI_1', from: 'MASTER', to: 'BACKUP', reason: 'lower priority' } };
        // A report, an event, the last will after it, the node back: every replica receives all four.
        const sequence = async () => {
          await c.publishAsync(topics.status(dr2), JSON.stringify({ nodeId: dr2, online: true, at: t1, appliedRevision: 1 }), { qos: 1 });
          await c.publishAsync(topics.events(dr2), JSON.stringify(event), { qos: 1 });
          await c.publishAsync(topics.status(dr2), JSON.stringify(lastWill(dr2)), { qos: 1 });
          await c.publishAsync(topics.status(dr2), JSON.stringify({ nodeId: dr2, online: true, at: t3, appliedRevision: 2 }), { qos: 1 });
        };
        const [a0, b0] = [ingest.stats().accepted, second.stats().accepted];
        const taken = (n: number) =>
          waitFor(() => ingest.stats().accepted >= a0 + n && second.stats().accepted >= b0 + n, { what: `${n} messages taken by both`, timeoutMs: 15_000 });
        await sequence();
        await taken(4);
        // The same four once more: what a replica running behind takes after the others moved on.
        await sequence();
        await taken(8);
        const rows = await d.db.select().from(events).where(eq(events.nodeId, dr2)).orderBy(asc(events.id));
        expect(rows.map((e) => e.type)).toEqual(['node.online', 'vrrp.transition', 'node.offline', 'node.online']);
        const [row] = await d.db.select().from(nodeStatus).where(eq(nodeStatus.nodeId, dr2));
        expect(row).toMatchObject({ online: true, appliedRevision: 2 });
        expect((row.status as { at: string }).at).toBe(t3);
      } finally {
        await second.close();
      }
    });

    it("a replica subscribing later takes dr1's retained last will without moving its offline time or raising presence", async () => {
      // dr1's last will is retained on the broker from the first test: a replica that starts (or
      // restarts) receives it when it subscribes.
      const before = await statusRow();
      const eventsBefore = await eventTypes();
      expect(before.online).toBe(false);
      const late = await startIngest({ db: d.db, mqttUrl: url, ...(aedes?.internal ?? {}) });
      try {
        await late.ready;
        await waitFor(() => late.stats().accepted >= 1, { what: 'the retained will taken', timeoutMs: 15_000 });
        const after = await statusRow();
        // "offline since" is when the will came, not when a replica happened to subscribe.
        expect(after.updatedAt.getTime()).toBe(before.updatedAt.getTime());
        expect(after).toMatchObject({ online: false, appliedRevision: 4 });
        expect(await eventTypes()).toEqual(eventsBefore);
      } finally {
        await late.close();
      }
    });
  });
}
