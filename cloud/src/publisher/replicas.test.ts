import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq, inArray } from 'drizzle-orm';
import postgres from 'postgres';
import type { MqttClient } from 'mqtt';
import { openDatabase, type Database } from '../db/client.ts';
import { outbox } from '../db/schema.ts';
import { loadSigner, type Signer } from '../keys/signing.ts';
import { startPublisher, type Publisher } from './publisher.ts';
import { openSiteLeases, type SiteLeases } from './site-leases.ts';
import { claimsFor, insertSite, runName, seedsSite } from '../../test/fixtures.test-support.ts';
import { collect, connectAs, endQuietly } from '../../test/mqtt-client.test-support.ts';
import { freshPostgres, sessionPid } from '../../test/pg.test-support.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { nodeIdOf, topics } from '#shared/wire/topics.ts';
import { unverifiedClaims } from '../../test/jws.test-support.ts';

const SITES = 6;
const REVISIONS = 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The revision inside a compact JWS (signatures are the signing tests' business). */
const revisionOf = (jws: Buffer) => unverifiedClaims<{ revision: number }>(jws).revision;

/**
 * A signer that takes 0–20 ms per document: drains last long enough to be cut in the middle, and
 * two replicas' publishes interleave differently every run.
 */
function slow(signer: Signer): Signer {
  return { ...signer, sign: async (claims) => (await sleep(Math.random() * 20), signer.sign(claims)) };
}

// Two publishers as two replicas on one real PostgreSQL and the machine's broker (MQTT_URL):
// session advisory locks need PostgreSQL's sessions, which PGlite (one process's database) has not.
const skip = !process.env.DATABASE_URL ? 'DATABASE_URL not set' : !process.env.MQTT_URL ? 'MQTT_URL not set' : false;
if (skip) console.log(`publisher replicas: skipped (${skip})`);

describe.skipIf(!!skip)('two publisher replicas on one PostgreSQL', () => {
  const sites = Array.from({ length: SITES }, (_, i) => seedsSite(runName(`rep${i}`)));
  const nodeIds = sites.flatMap((s) => s.spec.nodes.map((n) => nodeIdOf(s.metadata.name, n.name)));
  let pg: Awaited<ReturnType<typeof freshPostgres>>;
  let d: Database;
  let admin: postgres.Sql;
  let watcher: MqttClient;
  const opened: { pub: Publisher; leases: SiteLeases }[] = [];
  const logs: string[] = [];
  let applies: Promise<void> = Promise.resolve();

  async function replica(name: string): Promise<{ pub: Publisher; leases: SiteLeases }> {
    const leases = await openSiteLeases(pg.url, { log: (l) => logs.push(`${name}: ${l}`), name: `lvsfleet-site-leases ${name}` });
    const signer = slow(await loadSigner(d.db));
    const pub = await startPublisher({
      db: d.db,
      mqttUrl: process.env.MQTT_URL!,
      signer,
      leases,
      pollMs: 10,
      concurrency: 4,
      log: (l) => logs.push(`${name}: ${l}`),
    });
    opened.push({ pub, leases });
    return { pub, leases };
  }

  /** The backend pid of a replica's lease session. */
  const leasePid = (name: string) => sessionPid(admin, `lvsfleet-site-leases ${name}`);

  beforeAll(async () => {
    pg = await freshPostgres(process.env.DATABASE_URL!);
    d = await openDatabase({ url: pg.url });
    admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    for (const s of sites) await insertSite(d.db, s);
    watcher = await connectAs(process.env.MQTT_URL!, undefined, undefined);
  });
  afterAll(async () => {
    await applies.catch(() => {});
    // Clear the retained documents this run left on the shared broker.
    if (watcher) for (const n of nodeIds) await watcher.publishAsync(topics.desired(n), '', { qos: 1, retain: true });
    await endQuietly(watcher);
    for (const r of opened) {
      await r.pub.close();
      await r.leases.close();
    }
    await admin?.end({ timeout: 5 });
    await d?.close();
    await pg?.drop();
  });

  it('a replica whose lease connection dies mid-drain stops; the other takes over; each node sees its revisions in order, the newest last', async () => {
    const seen = collect(watcher);
    await watcher.subscribeAsync(
      nodeIds.map((n) => topics.desired(n)),
      { qos: 1 },
    );
    const count = () => [...seen.values()].reduce((n, l) => n + l.length, 0);
    // Applies keep coming while the replicas drain: one revision of every node at a time, each
    // once the last one is being published (paced by the drains, not the clock: on a loaded
    // machine a drain can outlast a whole burst of fixed-interval applies, leaving nothing to cut).
    const applyRevisions = async (from: number, to: number) => {
      for (let rev = from; rev <= to; rev++) {
        const before = count();
        await d.db.insert(outbox).values(
          sites.flatMap((s) =>
            s.spec.nodes.map((n) => ({
              nodeId: nodeIdOf(s.metadata.name, n.name),
              siteId: `site_${s.metadata.name}`,
              revision: rev,
              claims: claimsFor(s, n.name, rev),
            })),
          ),
        );
        await waitFor(() => count() >= before + 3, { what: `revision ${rev} being published`, timeoutMs: 30_000 });
      }
    };
    const published = (name: string) => logs.filter((l) => l.startsWith(`${name}: publisher: published`)).length;
    // Two thirds while both run (side by side long enough that unfenced publishers reorder),
    // the rest after A is gone.
    const half = (REVISIONS * 2) / 3;
    applies = applyRevisions(1, half);

    // A starts first and takes every site's lease with its first drain; B, side by side, holds none
    // (its drains find every site leased) until A's lease connection dies.
    const a = await replica('A');
    await waitFor(() => published('A') > 0, { what: 'A publishing', timeoutMs: 60_000 });
    const b = await replica('B');
    await waitFor(() => count() >= 60, { what: 'A publishing with B beside it', timeoutMs: 60_000 });
    expect(published('B')).toBe(0);

    // A's lease connection dies in the middle of its drains; A is stopped as a dead replica would be.
    const before = count();
    await admin`SELECT pg_terminate_backend(${await leasePid('A')}::int)`;
    const stopping = a.pub.close();
    await applies;
    // The second half comes after A is gone: B must take over whatever A held.
    applies = applyRevisions(half + 1, REVISIONS);
    await applies;

    const newest = () => nodeIds.every((n) => revisionOf(seen.get(topics.desired(n))?.at(-1) ?? Buffer.from('..')) === REVISIONS);
    await waitFor(newest, { what: 'every node its newest revision', timeoutMs: 30_000 });
    await stopping;
    expect(count()).toBeGreaterThan(before);
    expect(logs.some((l) => l.startsWith('A: publisher: lease connection closed'))).toBe(true);
    expect(published('B')).toBeGreaterThan(0);

    // Never backwards for any node (the same revision twice is allowed: an in-flight one redone).
    for (const n of nodeIds) {
      const revs = (seen.get(topics.desired(n)) ?? []).map(revisionOf);
      for (let i = 1; i < revs.length; i++) expect(revs[i], `${n}: ${revs.join(',')}`).toBeGreaterThanOrEqual(revs[i - 1]);
    }
    // Nothing lost: the newest rows are published, none left open.
    await b.pub.drain();
    const rows = await d.db.select().from(outbox).where(inArray(outbox.nodeId, nodeIds));
    expect(rows.filter((r) => r.status === 'pending' || r.status === 'failed')).toEqual([]);
    const last = await d.db
      .select()
      .from(outbox)
      .where(and(inArray(outbox.nodeId, nodeIds), eq(outbox.revision, REVISIONS)));
    expect(last.map((r) => r.status)).toEqual(nodeIds.map(() => 'published'));
  }, 90_000);

  it('a replica that connects republishes what the lease holder before it published last, not what it read before taking the lease', async () => {
    const late = seedsSite(runName('repl'));
    const siteId = await insertSite(d.db, late, { revision: 1 });
    const lateNodes = late.spec.nodes.map((n) => nodeIdOf(late.metadata.name, n.name));
    nodeIds.push(...lateNodes);
    // Revision 1 went out long ago (inserted as published: the running replica B must not send it now).
    await d.db.insert(outbox).values(
      late.spec.nodes.map((n) => ({
        nodeId: nodeIdOf(late.metadata.name, n.name),
        siteId,
        revision: 1,
        claims: claimsFor(late, n.name, 1),
        status: 'published' as const,
        publishedAt: new Date(),
      })),
    );
    const signer = await loadSigner(d.db);
    const seen = collect(watcher);
    await watcher.subscribeAsync(
      lateNodes.map((n) => topics.desired(n)),
      { qos: 1 },
    );
    // The moment between reading what to republish and holding the lease: the replica that held
    // it publishes revision 2 (row marked, document retained) and lets go.
    const leases = await openSiteLeases(pg.url, { name: 'lvsfleet-site-leases C' });
    let raced = false;
    const racing: SiteLeases = {
      async claim(wanted) {
        if (!raced) {
          raced = true;
          for (const n of late.spec.nodes) {
            const nodeId = nodeIdOf(late.metadata.name, n.name);
            await d.db.insert(outbox).values({ nodeId, siteId, revision: 2, claims: claimsFor(late, n.name, 2), status: 'published', publishedAt: new Date() });
            await watcher.publishAsync(topics.desired(nodeId), Buffer.from(await signer.sign(claimsFor(late, n.name, 2))), { qos: 1, retain: true });
          }
        }
        return leases.claim(wanted);
      },
      close: () => leases.close(),
    };
    const pub = await startPublisher({ db: d.db, mqttUrl: process.env.MQTT_URL!, signer, leases: racing, pollMs: 50 });
    opened.push({ pub, leases: racing });
    await waitFor(() => lateNodes.every((n) => (seen.get(topics.desired(n)) ?? []).length >= 2), { what: 'the republish', timeoutMs: 15_000 });
    await pub.drain();
    for (const n of lateNodes) expect((seen.get(topics.desired(n)) ?? []).map(revisionOf), n).toEqual([2, 2]);
  }, 60_000);

  it('a replica handed an older row after the lease holder published a newer one and died before marking it sends the newer one', async () => {
    // The replicas of the tests before poll every 10 ms: stopped, so this drain is the only one.
    for (const r of opened.splice(0)) {
      await r.pub.close();
      await r.leases.close();
    }
    const site = seedsSite(runName('repd'));
    const siteId = await insertSite(d.db, site);
    const siteNodes = site.spec.nodes.map((n) => nodeIdOf(site.metadata.name, n.name));
    nodeIds.push(...siteNodes);
    const signer = await loadSigner(d.db);
    const seen = collect(watcher);
    await watcher.subscribeAsync(
      siteNodes.map((n) => topics.desired(n)),
      { qos: 1 },
    );
    // A publisher that reads the outbox only when told (no poll within the test): its drain of a
    // hand-off publishes what it was handed.
    const leases = await openSiteLeases(pg.url, { name: 'lvsfleet-site-leases D' });
    const pub = await startPublisher({ db: d.db, mqttUrl: process.env.MQTT_URL!, signer, leases, pollMs: 3_600_000 });
    opened.push({ pub, leases });
    await pub.drain();
    const rowsOf = (revision: number) =>
      d.db
        .insert(outbox)
        .values(site.spec.nodes.map((n) => ({ nodeId: nodeIdOf(site.metadata.name, n.name), siteId, revision, claims: claimsFor(site, n.name, revision) })));
    await rowsOf(1);
    await rowsOf(2);
    // The holder before: revision 2 published (retained, PUBACK'd) and killed before its mark.
    for (const n of site.spec.nodes)
      await watcher.publishAsync(topics.desired(nodeIdOf(site.metadata.name, n.name)), Buffer.from(await signer.sign(claimsFor(site, n.name, 2))), {
        qos: 1,
        retain: true,
      });
    await waitFor(() => siteNodes.every((n) => (seen.get(topics.desired(n)) ?? []).length >= 1), { what: 'revision 2 retained', timeoutMs: 10_000 });
    // The apply of revision 1 hands its rows over late, as a replica slowed down would.
    const handed = await d.db
      .select()
      .from(outbox)
      .where(and(eq(outbox.siteId, siteId), eq(outbox.revision, 1)));
    pub.handoff(handed);
    const handedIds = handed.map((r) => r.id);
    await waitFor(async () => (await d.db.select().from(outbox).where(inArray(outbox.id, handedIds))).every((r) => r.status !== 'pending'), {
      what: 'the handed rows taken',
      timeoutMs: 15_000,
    });
    // A drain that reads the outbox closes whatever is left.
    await pub.drain();
    await waitFor(() => siteNodes.every((n) => (seen.get(topics.desired(n)) ?? []).length >= 2), { what: 'the drain', timeoutMs: 10_000 });
    for (const n of siteNodes) expect((seen.get(topics.desired(n)) ?? []).map(revisionOf), n).toEqual([2, 2]);
  }, 60_000);
});
