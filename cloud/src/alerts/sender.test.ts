import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { asc, eq } from 'drizzle-orm';
import { parse } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Site } from '#shared/site/site.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { openTestDatabase, type TestDatabase } from '../db/test-db.test-support.ts';
import { alerts, events, nodeStatus, nodes, orgs, sites, webhookDeliveries, webhooks } from '../db/schema.ts';
import { applySite } from '../sites/apply.ts';
import { StatusBook } from '../status/book.ts';
import { startAlerter } from './alerter.ts';
import { enqueueDeliveries } from './queue.ts';
import { ROUND_SENDS, ROUND_WEBHOOKS, SENDING_WEBHOOKS, sendRound, startSender } from './sender.ts';
import { newWebhookSecret } from './standard-webhooks.ts';
import { webhookFetch } from './webhook-transport.ts';

/** A receiver on loopback: `answer` false takes each request and never answers it (a black hole behind a firewall that lets the connection in). */
/** `n` `node.online` events of site s1's dr1 (data `{ i }`, 0 to n-1), in one statement: each is a delivery to every webhook. */
function onlineEvents(db: TestDatabase['db'], n: number) {
  return db
    .insert(events)
    .values(Array.from({ length: n }, (_, i) => ({ siteId: 's1', nodeId: 'bj-dc1.dr1', type: 'node.online', data: { i }, at: new Date() })));
}

async function receiver(answer: boolean): Promise<{ url: string; seen: string[]; open: Set<IncomingMessage>; server: Server }> {
  const seen: string[] = [];
  const open = new Set<IncomingMessage>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push(body);
      if (answer) res.end();
      else {
        open.add(req);
        req.socket.on('close', () => open.delete(req));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, seen, open, server };
}

/** Long enough that no test here ever waits for it: a hung send ends when its receiver drops the connection. */
const TIMEOUT_MS = 120_000;
const fetchAny = webhookFetch({ allowPrivate: true });

describe('webhook sending with a receiver that never answers', () => {
  let tdb: TestDatabase;
  let stuck: Awaited<ReturnType<typeof receiver>>;
  let ok: Awaited<ReturnType<typeof receiver>>;
  const seeds = Site.parse(parse(readFileSync(fileURLToPath(new URL('../../../examples/seeds-lvs-dr.yaml', import.meta.url)), 'utf8')));

  beforeAll(async () => {
    tdb = await openTestDatabase();
    [stuck, ok] = await Promise.all([receiver(false), receiver(true)]);
  });
  afterAll(async () => {
    stuck?.server.closeAllConnections();
    stuck?.server.close();
    ok?.server.close();
    await tdb?.close();
  });
  beforeEach(async () => {
    await tdb.truncate();
    stuck.seen.length = 0;
    ok.seen.length = 0;
    await tdb.db.insert(orgs).values({ id: 'default', name: 'default' });
    const secret = newWebhookSecret();
    await tdb.db.insert(webhooks).values([
      { id: 'w-stuck', orgId: 'default', url: stuck.url, secret },
      { id: 'w-ok', orgId: 'default', url: ok.url, secret },
    ]);
  });

  /** Ends a sender or alerter whose worker is inside a hung send: the receiver drops it, the send fails into a retry, the worker stops. */
  async function closeWhileHung(c: { close(): Promise<void> }): Promise<void> {
    const closing = c.close();
    stuck.server.closeAllConnections();
    await closing;
  }

  it("holds back that receiver's own deliveries only: the other webhook's go out while its first send hangs", async () => {
    const { db } = tdb;
    await db.insert(sites).values({ id: 's1', orgId: 'default', name: 'bj-dc1', currentRevision: 1 });
    for (let i = 0; i < 3; i++) await db.insert(events).values({ siteId: 's1', nodeId: 'bj-dc1.dr1', type: 'node.online', data: { i }, at: new Date() });
    expect(await enqueueDeliveries(db)).toBe(6);
    const sender = startSender({ db, fetch: fetchAny, now: () => new Date(), timeoutMs: TIMEOUT_MS, intervalMs: 3_600_000 });
    try {
      sender.kick();
      await waitFor(() => ok.seen.length === 3, { timeoutMs: 20_000, what: "the answering webhook's three deliveries" });
      // Its own first send is still hanging, and the two behind it wait their turn.
      expect(stuck.seen).toHaveLength(1);
      expect(stuck.open.size).toBe(1);
    } finally {
      await closeWhileHung(sender);
    }
    const rows = await db
      .select({ webhookId: webhookDeliveries.webhookId, status: webhookDeliveries.status, attempts: webhookDeliveries.attempts })
      .from(webhookDeliveries)
      .orderBy(asc(webhookDeliveries.webhookId), asc(webhookDeliveries.eventId));
    expect(rows).toEqual([
      { webhookId: 'w-ok', status: 'delivered', attempts: 1 },
      { webhookId: 'w-ok', status: 'delivered', attempts: 1 },
      { webhookId: 'w-ok', status: 'delivered', attempts: 1 },
      // The hung send failed when the connection dropped: a retry with back-off. The other two were never tried.
      { webhookId: 'w-stuck', status: 'pending', attempts: 1 },
      { webhookId: 'w-stuck', status: 'pending', attempts: 0 },
      { webhookId: 'w-stuck', status: 'pending', attempts: 0 },
    ]);
  }, 60_000);

  it("sendRound (the Workers cron's): the other webhook's deliveries go out claim after claim while the first send hangs", async () => {
    const { db } = tdb;
    await db.insert(sites).values({ id: 's1', orgId: 'default', name: 'bj-dc1', currentRevision: 1 });
    // 30 events for both webhooks: the first claim takes ten of each, the answering webhook's other 20 need claims of their own.
    await onlineEvents(db, 30);
    expect(await enqueueDeliveries(db)).toBe(60);
    const round = sendRound({ db, fetch: fetchAny, now: () => new Date(), webhookTimeoutMs: TIMEOUT_MS });
    await waitFor(() => ok.seen.length === 30, { timeoutMs: 20_000, what: "the answering webhook's 30 deliveries" });
    expect(stuck.seen).toHaveLength(1);
    stuck.server.closeAllConnections();
    // The dropped send is a retry, and the stuck webhook's other 29 wait for it, untried, in their order.
    expect(await round).toEqual({ delivered: 30, retried: 1, failed: 0 });
    expect(stuck.seen).toHaveLength(1);
    const rows = await db
      .select({ attempts: webhookDeliveries.attempts, status: webhookDeliveries.status, at: webhookDeliveries.nextAttemptAt })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.webhookId, 'w-stuck'))
      .orderBy(asc(webhookDeliveries.eventId));
    expect(rows.map((r) => [r.status, r.attempts])).toEqual([['pending', 1], ...Array(29).fill(['pending', 0])]);
    expect(new Set(rows.map((r) => r.at.getTime())).size).toBe(1);
    expect(rows[0].at.getTime()).toBeGreaterThan(Date.now());
  }, 60_000);

  it('a send to be retried defers the rest of its webhook to that retry: a receiver that is down costs one send per back-off, not a timeout for each delivery', async () => {
    const { db } = tdb;
    await db.insert(sites).values({ id: 's1', orgId: 'default', name: 'bj-dc1', currentRevision: 1 });
    await onlineEvents(db, 5);
    expect(await enqueueDeliveries(db)).toBe(10);
    const sender = startSender({ db, fetch: fetchAny, now: () => new Date(), timeoutMs: TIMEOUT_MS, intervalMs: 3_600_000 });
    const ticking = sender.tick();
    await waitFor(() => ok.seen.length === 5 && stuck.seen.length === 1, { timeoutMs: 20_000, what: "the answering webhook's five, the first of the other" });
    stuck.server.closeAllConnections();
    await ticking;
    await sender.close();
    expect(stuck.seen).toHaveLength(1);
    const rows = await db
      .select({ attempts: webhookDeliveries.attempts, at: webhookDeliveries.nextAttemptAt })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.webhookId, 'w-stuck'))
      .orderBy(asc(webhookDeliveries.eventId));
    expect(rows.map((r) => r.attempts)).toEqual([1, 0, 0, 0, 0]);
    expect(rows.every((r) => r.at.getTime() === rows[0].at.getTime())).toBe(true);
    // Due again at the retry: the first goes first, then the rest in their order.
    await db
      .update(webhookDeliveries)
      .set({ nextAttemptAt: new Date(0) })
      .where(eq(webhookDeliveries.webhookId, 'w-stuck'));
    await db.update(webhooks).set({ url: ok.url }).where(eq(webhooks.id, 'w-stuck'));
    ok.seen.length = 0;
    expect(await sendRound({ db, fetch: fetchAny, now: () => new Date() })).toEqual({ delivered: 5, retried: 0, failed: 0 });
    expect(ok.seen.map((b) => (JSON.parse(b) as { data: { data: { i: number } } }).data.data.i)).toEqual([0, 1, 2, 3, 4]);
  }, 60_000);

  it('sendRound claims ROUND_SENDS deliveries at most (a Workers invocation has a bounded number of subrequests)', async () => {
    const { db } = tdb;
    await db.insert(sites).values({ id: 's1', orgId: 'default', name: 'bj-dc1', currentRevision: 1 });
    await db.delete(webhooks).where(eq(webhooks.id, 'w-stuck'));
    // Four webhooks, each with more than its share: their lanes claim at once, and still only ROUND_SENDS go.
    const secret = newWebhookSecret();
    await db.insert(webhooks).values(['w-2', 'w-3', 'w-4'].map((id) => ({ id, orgId: 'default', url: ok.url, secret })));
    const n = ROUND_SENDS / 2;
    await onlineEvents(db, n);
    expect(await enqueueDeliveries(db)).toBe(4 * n);
    expect(await sendRound({ db, fetch: fetchAny, now: () => new Date() })).toEqual({ delivered: ROUND_SENDS, retried: 0, failed: 0 });
    expect(await sendRound({ db, fetch: fetchAny, now: () => new Date() })).toEqual({ delivered: ROUND_SENDS, retried: 0, failed: 0 });
    expect(ok.seen).toHaveLength(4 * n);
  }, 60_000);

  it('sendRound: one webhook with more than a round can take goes on at the next round', async () => {
    const { db } = tdb;
    await db.insert(sites).values({ id: 's1', orgId: 'default', name: 'bj-dc1', currentRevision: 1 });
    await db.delete(webhooks).where(eq(webhooks.id, 'w-stuck'));
    const n = ROUND_SENDS + 15;
    await onlineEvents(db, n);
    expect(await enqueueDeliveries(db)).toBe(n);
    expect(await sendRound({ db, fetch: fetchAny, now: () => new Date() })).toEqual({ delivered: ROUND_SENDS, retried: 0, failed: 0 });
    expect(await sendRound({ db, fetch: fetchAny, now: () => new Date() })).toEqual({ delivered: 15, retried: 0, failed: 0 });
    expect(ok.seen).toHaveLength(n);
  }, 60_000);

  it('does not hold back the alerting rounds: a site that goes dark meanwhile is alerted on while the send hangs', async () => {
    const { db } = tdb;
    const offline = async (name: string) => {
      await applySite(db, { orgId: 'default', site: { ...seeds, metadata: { ...seeds.metadata, name } }, author: 'test' });
      const [{ siteId }] = await db.select({ siteId: sites.id }).from(sites).where(eq(sites.name, name));
      const ids = (await db.select({ id: nodes.id }).from(nodes).where(eq(nodes.siteId, siteId))).map((n) => n.id);
      await db.insert(nodeStatus).values(ids.map((nodeId) => ({ nodeId, online: false, updatedAt: new Date(Date.now() - 60_000) })));
      return siteId;
    };
    await offline('first');
    const alerter = startAlerter({ db, intervalMs: 200, alerts: { debounceMs: 0 }, fetch: fetchAny, webhookTimeoutMs: TIMEOUT_MS });
    try {
      await waitFor(() => stuck.open.size === 1, { timeoutMs: 20_000, what: "the first site's alert hanging at the receiver" });
      const later = await offline('later');
      await waitFor(async () => (await db.select({ id: alerts.id }).from(alerts).where(eq(alerts.siteId, later))).length > 0, {
        timeoutMs: 20_000,
        what: "the second site's alerts raised while the send hangs",
      });
      // And sent to the receiver that answers.
      await waitFor(() => ok.seen.some((body) => body.includes('"site":"later"')), { timeoutMs: 20_000, what: "the second site's alert at the other webhook" });
      expect(stuck.open.size).toBe(1);
    } finally {
      await closeWhileHung(alerter);
    }
  }, 90_000);

  it('stops sending as soon as it is closed, while an alerting round is still under way: the dropped send does not start the next', async () => {
    const { db } = tdb;
    await applySite(db, { orgId: 'default', site: seeds, author: 'test' });
    const ids = (await db.select({ id: nodes.id }).from(nodes)).map((n) => n.id);
    await db.insert(nodeStatus).values(ids.map((nodeId) => ({ nodeId, online: false, updatedAt: new Date(Date.now() - 60_000) })));
    // A round that waits for `release` once `hold` is set: the close below lands while it is under way.
    let hold = false;
    let held = false;
    let release = () => {};
    const released = new Promise<void>((r) => (release = r));
    class HeldBook extends StatusBook {
      override async all(now?: number, of?: { orgId: string }) {
        if (hold) {
          held = true;
          await released;
        }
        return super.all(now, of);
      }
    }
    const alerter = startAlerter({ db, status: new HeldBook(db), intervalMs: 200, alerts: { debounceMs: 0 }, fetch: fetchAny, webhookTimeoutMs: TIMEOUT_MS });
    await waitFor(() => stuck.open.size === 1, { timeoutMs: 20_000, what: "the site's first alert hanging at the receiver" });
    const queued = await db.select({ id: webhookDeliveries.id }).from(webhookDeliveries).where(eq(webhookDeliveries.webhookId, 'w-stuck'));
    expect(queued.length).toBeGreaterThan(1); // more behind the hung one, or the next send could not start anyway
    hold = true;
    await waitFor(() => held, { timeoutMs: 20_000, what: 'an alerting round under way' });
    const closing = alerter.close();
    stuck.server.closeAllConnections();
    const dropped = async () =>
      (await db.select({ attempts: webhookDeliveries.attempts }).from(webhookDeliveries).where(eq(webhookDeliveries.webhookId, 'w-stuck'))).some(
        (r) => r.attempts === 1,
      );
    await waitFor(dropped, { timeoutMs: 20_000, what: 'the dropped send recorded as a retry' });
    // Had the sender kept going until the round ended, the next delivery would be at the receiver within milliseconds.
    await expect(waitFor(() => stuck.seen.length > 1, { timeoutMs: 1_500, what: 'a second send' })).rejects.toThrow(/a second send/);
    release();
    await closing;
    expect(stuck.seen).toHaveLength(1);
  }, 60_000);
});

describe('how many webhooks are sent to at once', () => {
  let tdb: TestDatabase;
  let server: Server;
  let url: string;
  /** Requests the receiver holds now, and the most it held at once. */
  let held = 0;
  let most = 0;
  let answered = 0;

  beforeAll(async () => {
    tdb = await openTestDatabase();
    // Each request is held 40 ms, so the sends to different webhooks overlap as far as the sender lets them.
    server = createServer((req, res) => {
      most = Math.max(most, ++held);
      req.resume();
      setTimeout(() => {
        held--;
        answered++;
        res.end();
      }, 40);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    server?.close();
    await tdb?.close();
  });
  beforeEach(async () => {
    await tdb.truncate();
    held = most = answered = 0;
    const { db } = tdb;
    await db.insert(orgs).values({ id: 'default', name: 'default' });
    const secret = newWebhookSecret();
    await db.insert(webhooks).values(Array.from({ length: 8 }, (_, i) => ({ id: `w-${i}`, orgId: 'default', url, secret })));
    await db.insert(sites).values({ id: 's1', orgId: 'default', name: 'bj-dc1', currentRevision: 1 });
    await onlineEvents(db, 2);
    expect(await enqueueDeliveries(db)).toBe(16);
  });

  const delivered = async () =>
    (await tdb.db.select({ status: webhookDeliveries.status }).from(webhookDeliveries)).filter((d) => d.status === 'delivered').length;

  it('serve sends to maxWebhooks webhooks at once; the others wait for a worker, and every delivery goes', async () => {
    const sender = startSender({ db: tdb.db, fetch: fetchAny, now: () => new Date(), timeoutMs: 10_000, intervalMs: 3_600_000, maxWebhooks: 3 });
    try {
      await sender.tick();
    } finally {
      await sender.close();
    }
    expect(answered).toBe(16);
    expect(await delivered()).toBe(16);
    expect(most).toBe(3);
  }, 60_000);

  it('the Workers round sends to maxWebhooks webhooks at once, and every delivery goes', async () => {
    expect(await sendRound({ db: tdb.db, fetch: fetchAny, now: () => new Date(), maxWebhooks: 3 })).toEqual({ delivered: 16, retried: 0, failed: 0 });
    expect(answered).toBe(16);
    expect(most).toBe(3);
  }, 60_000);

  it('the defaults: SENDING_WEBHOOKS for serve, ROUND_WEBHOOKS for a Workers round', async () => {
    expect(SENDING_WEBHOOKS).toBeGreaterThanOrEqual(8);
    const sender = startSender({ db: tdb.db, fetch: fetchAny, now: () => new Date(), timeoutMs: 10_000, intervalMs: 3_600_000 });
    try {
      await sender.tick();
    } finally {
      await sender.close();
    }
    // Eight webhooks, all under serve's bound: all eight at once.
    expect(most).toBe(8);
    await tdb.db.update(webhookDeliveries).set({ status: 'pending', nextAttemptAt: new Date(0) });
    most = 0;
    expect(await sendRound({ db: tdb.db, fetch: fetchAny, now: () => new Date() })).toEqual({ delivered: 16, retried: 0, failed: 0 });
    expect(most).toBe(ROUND_WEBHOOKS);
  }, 60_000);
});
