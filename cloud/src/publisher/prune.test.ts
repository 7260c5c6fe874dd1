import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asc } from 'drizzle-orm';
import { openDatabase, type Database } from '../db/client.ts';
import { outbox } from '../db/schema.ts';
import { loadSigner } from '../keys/signing.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../mqtt/broker.ts';
import { startPublisher, type Publisher } from './publisher.ts';
import { claimsFor, insertSite, runName, seedsSite } from '../../test/fixtures.test-support.ts';
import { collect, connectAs, endQuietly } from '../../test/mqtt-client.test-support.ts';
import { freePort } from '../../test/net.test-support.ts';
import { unverifiedClaims } from '../../test/jws.test-support.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { nodeIdOf, topics } from '#shared/wire/topics.ts';

// The publisher deletes the rows its documents superseded (./outbox-store.ts pruneSuperseded),
// here after every drain that published (pruneEveryMs 0), on PGlite (vacuumed after, as the server
// does on PGlite) and the embedded broker.
describe('publisher: superseded outbox rows are pruned', () => {
  const site = seedsSite(runName('prune'));
  const name = site.metadata.name;
  const id = (n: string) => nodeIdOf(name, n);
  const siteId = `site_${name}`;
  const password = 'test-internal-password-0123456789';
  const logs: string[] = [];
  let d: Database;
  let broker: EmbeddedBroker;
  let pub: Publisher;
  let url: string;

  beforeAll(async () => {
    d = await openDatabase({});
    await insertSite(d.db, site);
    const port = await freePort();
    url = `mqtt://127.0.0.1:${port}`;
    broker = await startEmbeddedBroker({ port, db: d.db, internalPassword: password });
    const signer = await loadSigner(d.db);
    pub = await startPublisher({
      db: d.db,
      mqttUrl: url,
      username: 'lvsfleet-cloud',
      password,
      signer,
      pollMs: 100,
      pruneEveryMs: 0,
      vacuumAfterPrune: true,
      log: (l) => logs.push(l),
    });
  });
  afterAll(async () => {
    await pub?.close();
    await broker?.close();
    await d?.close();
  });

  const rows = async () =>
    (await d.db.select().from(outbox).orderBy(asc(outbox.nodeId), asc(outbox.id))).map((r) => [r.nodeId.split('.')[1], r.revision, r.status]);
  const publish = async (revision: number, nodeNames: string[]) => {
    await d.db.insert(outbox).values(nodeNames.map((n) => ({ nodeId: id(n), siteId, revision, claims: claimsFor(site, n, revision) })));
    await pub.drain();
  };

  it("keeps each node's newest published document and what is still to go, and deletes the rest", async () => {
    const all = site.spec.nodes.map((n) => n.name).sort();
    await publish(1, all);
    await publish(2, all);
    // dr1 gets 3 and 4 in one drain: 3 is skipped (superseded by 4), then pruned.
    await d.db.insert(outbox).values([3, 4].map((revision) => ({ nodeId: id('dr1'), siteId, revision, claims: claimsFor(site, 'dr1', revision) })));
    await pub.drain();
    // rs1's revision 5 waits for its rollout stage: not sent, so its revision 2 stays.
    await d.db.insert(outbox).values({ nodeId: id('rs1'), siteId, revision: 5, status: 'held', claims: claimsFor(site, 'rs1', 5) });
    await publish(4, ['dr2']);
    expect(await rows()).toEqual([
      ['dr1', 4, 'published'],
      ['dr2', 4, 'published'],
      ['rs1', 2, 'published'],
      ['rs1', 5, 'held'],
      ['rs2', 2, 'published'],
    ]);
    expect(logs.filter((l) => l.includes('pruned')).length).toBeGreaterThan(0);
    expect(logs.filter((l) => l.includes('failed'))).toEqual([]);
    // What the broker retained is each node's newest document, as before.
    const c = await connectAs(url, 'lvsfleet-cloud', password, { clientId: `prune-watch-${Math.random().toString(36).slice(2)}` });
    try {
      const got = collect(c);
      await c.subscribeAsync(
        all.map((n) => topics.desired(id(n))),
        { qos: 1 },
      );
      await waitFor(() => all.every((n) => got.get(topics.desired(id(n)))), { what: 'every retained document', timeoutMs: 5000 });
      expect(Object.fromEntries(all.map((n) => [n, unverifiedClaims(got.get(topics.desired(id(n)))![0].toString()).revision]))).toEqual({
        dr1: 4,
        dr2: 4,
        rs1: 2,
        rs2: 2,
      });
    } finally {
      await endQuietly(c);
    }
  });
});
