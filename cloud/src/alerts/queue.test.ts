import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../db/test-db.test-support.ts';
import { events, orgs, sites, webhookDeliveries, webhooks } from '../db/schema.ts';
import { claimDue, enqueueDeliveries, ROUND_EVENTS, type Fetch } from './queue.ts';
import { deliverDue, elapse } from './queue.test-support.ts';
import { newWebhookSecret, verifyWebhook } from './standard-webhooks.ts';
import { webhookFetch } from './webhook-transport.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

describe('webhook queue (real HTTP receiver on loopback)', () => {
  let tdb: TestDatabase;
  let server: Server;
  let url: string;
  const received: Received[] = [];
  let replies: number[] = [];
  const secret = newWebhookSecret();
  // The server's own sender, allowed to reach this loopback receiver as `serve --webhook-allow-private` is.
  const realFetch: Fetch = webhookFetch({ allowPrivate: true });

  beforeAll(async () => {
    tdb = await openTestDatabase();
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.statusCode = replies.shift() ?? 200;
        res.end();
      });
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
    received.length = 0;
    replies = [];
    const { db } = tdb;
    await db.insert(orgs).values({ id: 'o', name: 'o' });
    await db.insert(sites).values([
      { id: 's1', orgId: 'o', name: 'bj-dc1', currentRevision: 1 },
      { id: 's2', orgId: 'o', name: 'sh-dc2', currentRevision: 1 },
    ]);
  });

  const addEvent = (siteId: string, type: string, data: Record<string, unknown>) =>
    tdb.db.insert(events).values({ siteId, nodeId: `${siteId === 's1' ? 'bj-dc1' : 'sh-dc2'}.dr1`, type, data, at: new Date('2026-01-01T00:00:00Z') });

  it("queues its own org's events only, though the cursor walks every org's", async () => {
    const { db } = tdb;
    await db.insert(orgs).values({ id: 'o2', name: 'o2' });
    await db.insert(sites).values({ id: 's3', orgId: 'o2', name: 'other-org-site', currentRevision: 1 });
    await db.insert(webhooks).values({ id: 'w1', orgId: 'o', url, secret, eventTypes: [] });
    const transition = { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'x' };
    await db.insert(events).values({ siteId: 's3', nodeId: 'other-org-site.dr1', type: 'vrrp.transition', data: transition, at: new Date() });
    await addEvent('s1', 'vrrp.transition', transition);
    expect(await enqueueDeliveries(db)).toBe(1);
    const [d] = await db.select().from(webhookDeliveries);
    expect(JSON.stringify(d.payload)).toContain('bj-dc1');
    expect(JSON.stringify(d.payload)).not.toContain('other-org-site');
  });

  it('walks past thousands of events in one round: an alert after a large apply is queued in that round', async () => {
    const { db } = tdb;
    await db.insert(webhooks).values({ id: 'w1', orgId: 'o', url, secret, eventTypes: [], minSeverity: 'warning' });
    // A 2,500-node apply's events (info: not wanted), then a warning reported after them.
    await db
      .insert(events)
      .values(
        Array.from({ length: 2500 }, (_, i) => ({ siteId: 's1', nodeId: `bj-dc1.rs${i}`, type: 'apply.succeeded', data: { revision: 2 }, at: new Date() })),
      );
    await addEvent('s1', 'agent.degraded', { what: 'garp', detail: 'helper restarting' });
    expect(await enqueueDeliveries(db)).toBe(1);
    const [w] = await db.select({ lastEventId: webhooks.lastEventId }).from(webhooks);
    const [last] = await db.select({ id: events.id }).from(events).orderBy(desc(events.id)).limit(1);
    expect(w.lastEventId).toBe(last.id);
  });

  it('signs with Standard Webhooks, filters by type and site, queues each event once', async () => {
    const { db } = tdb;
    await db.insert(webhooks).values({ id: 'w1', orgId: 'o', url, secret, eventTypes: ['vrrp.transition'], siteName: 'bj-dc1' });
    await addEvent('s1', 'vrrp.transition', { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master down' });
    await addEvent('s1', 'apply.succeeded', { revision: 2 });
    await addEvent('s2', 'vrrp.transition', { instance: 'VI_9', from: 'BACKUP', to: 'MASTER', reason: 'x' });
    expect(await enqueueDeliveries(db)).toBe(1);
    expect(await enqueueDeliveries(db)).toBe(0);
    expect(await deliverDue(db, { fetch: realFetch })).toEqual({ delivered: 1, retried: 0, failed: 0 });
    expect(received).toHaveLength(1);
    const [r] = received;
    const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]));
    expect(verifyWebhook(secret, headers, r.body, Math.floor(Date.now() / 1000))).toBe(true);
    const body = JSON.parse(r.body);
    expect(body.type).toBe('vrrp.transition');
    expect(body.data).toMatchObject({ site: 'bj-dc1', nodeId: 'bj-dc1.dr1', summary: 'dr1: VI_1 BACKUP→MASTER (master down)' });
  });

  it('retries 5xx with back-off, gives up on other 4xx, and shapes Slack messages', async () => {
    const { db } = tdb;
    await db.insert(webhooks).values([
      { id: 'w1', orgId: 'o', url, secret },
      { id: 'w2', orgId: 'o', url: `${url}?slack`, secret, format: 'slack' },
    ]);
    await addEvent('s1', 'node.offline', { key: 'node.offline|node:dr1', subject: 'node:dr1', severity: 'warning', summary: 'dr1 offline since 02:14' });
    expect(await enqueueDeliveries(db)).toBe(2);
    replies = [503, 404];
    const t0 = Date.now();
    const r1 = await deliverDue(db, { fetch: realFetch });
    expect(r1).toEqual({ delivered: 0, retried: 1, failed: 1 });
    const rows = await db.select().from(webhookDeliveries);
    const pending = rows.find((d) => d.status === 'pending')!;
    expect(pending.lastStatus).toBe(503);
    // On the database's clock, which is this host's.
    const wait = pending.nextAttemptAt.getTime() - t0;
    expect(wait).toBeGreaterThanOrEqual(4_000);
    expect(wait).toBeLessThanOrEqual(6_000 + (Date.now() - t0));
    // Not due yet: nothing is sent.
    expect(await deliverDue(db, { fetch: realFetch })).toEqual({ delivered: 0, retried: 0, failed: 0 });
    await elapse(db, 6_000);
    expect(await deliverDue(db, { fetch: realFetch })).toEqual({ delivered: 1, retried: 0, failed: 0 });
    const slack = received.find((r) => r.body.includes('"blocks"'));
    expect(JSON.parse(slack!.body).text).toContain('*node.offline* on `bj-dc1`: dr1 offline since 02:14');
    expect(slack!.headers['webhook-signature']).toBeUndefined();
    const [done] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, pending.id));
    expect(done).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('refuses at delivery a receiver the server may not reach (loopback without --webhook-allow-private)', async () => {
    const { db } = tdb;
    await db.insert(webhooks).values({ id: 'w1', orgId: 'o', url, secret });
    await addEvent('s1', 'node.online', {});
    await enqueueDeliveries(db);
    expect(await deliverDue(db, { fetch: webhookFetch({ allowPrivate: false }) })).toEqual({ delivered: 0, retried: 1, failed: 0 });
    expect(received).toEqual([]);
    const [row] = await db.select().from(webhookDeliveries);
    expect(row.lastError).toMatch(/refused: 127\.0\.0\.1 is a loopback address/);
  });

  it("filters by minimum severity and site; an agent's own copy of a condition is history, not a delivery", async () => {
    const { db } = tdb;
    await db.insert(webhooks).values([
      { id: 'loud', orgId: 'o', url, secret, minSeverity: 'warning' },
      { id: 'crit', orgId: 'o', url, secret, minSeverity: 'critical', siteName: 'bj-dc1' },
      { id: 'all', orgId: 'o', url, secret },
    ]);
    await addEvent('s1', 'vrrp.transition', { instance: 'VI_1', from: 'INIT', to: 'BACKUP', reason: 'start' }); // info
    await addEvent('s1', 'realserver.down', { service: 'web', address: '10.0.0.1', port: 80, check: 'tcp', detail: 'refused' }); // one director's report
    const cond = { key: 'site.split_brain|vrrp:VI_1', subject: 'vrrp:VI_1', severity: 'critical', summary: 'dr1 and dr2 are both MASTER' };
    await addEvent('s1', 'site.split_brain', cond);
    await addEvent('s2', 'site.split_brain', cond);
    await addEvent('s1', 'site.split_brain.resolved', { ...cond, durationMs: 30_000, summary: 'resolved after 30s: dr1 and dr2 are both MASTER' });
    await enqueueDeliveries(db);
    const rows = await db.select({ w: webhookDeliveries.webhookId, e: webhookDeliveries.eventId }).from(webhookDeliveries);
    const got = (w: string) => rows.filter((r) => r.w === w).map((r) => r.e);
    expect(got('all')).toEqual([1, 3, 4, 5]);
    expect(got('loud')).toEqual([3, 4, 5]);
    expect(got('crit')).toEqual([3, 5]);
  });

  /** The event ids queued for each webhook, in order. */
  const queuedFor = async (): Promise<Record<string, number[]>> => {
    const rows = await tdb.db
      .select({ w: webhookDeliveries.webhookId, e: webhookDeliveries.eventId })
      .from(webhookDeliveries)
      .orderBy(webhookDeliveries.eventId);
    const out: Record<string, number[]> = {};
    for (const r of rows) (out[r.w] ??= []).push(r.e);
    return out;
  };
  const cursorOf = async (id: string) => (await tdb.db.select({ c: webhooks.lastEventId }).from(webhooks).where(eq(webhooks.id, id)))[0].c;
  const newestEventId = async () => (await tdb.db.select({ id: events.id }).from(events).orderBy(desc(events.id)).limit(1))[0].id;
  /** `n` events of site s1, the i-th of type `typeOf(i)`, in inserts of 2,000. */
  const addEvents = async (n: number, typeOf: (i: number) => string) => {
    const rows = Array.from({ length: n }, (_, i) => ({
      siteId: 's1',
      nodeId: `bj-dc1.rs${i}`,
      type: typeOf(i),
      data: { what: 'x', detail: 'y' },
      at: new Date(),
    }));
    for (let i = 0; i < n; i += 2000) await tdb.db.insert(events).values(rows.slice(i, i + 2000));
  };

  it("a site filter never takes another org's site of the same name", async () => {
    const { db } = tdb;
    await db.insert(orgs).values({ id: 'o2', name: 'o2' });
    await db.insert(sites).values({ id: 's3', orgId: 'o2', name: 'bj-dc1', currentRevision: 1 });
    await db.insert(webhooks).values([
      { id: 'site', orgId: 'o', url, secret, siteName: 'bj-dc1' },
      { id: 'other-org', orgId: 'o2', url, secret },
    ]);
    await addEvent('s3', 'node.online', {});
    await addEvent('s1', 'node.online', {});
    await addEvent('s2', 'node.online', {});
    expect(await enqueueDeliveries(db)).toBe(2);
    expect(await queuedFor()).toEqual({ site: [2], 'other-org': [1] });
  });

  it('an event type list takes those types only; a resolution is a type of its own', async () => {
    const { db } = tdb;
    await db.insert(webhooks).values({ id: 'w1', orgId: 'o', url, secret, eventTypes: ['agent.degraded', 'node.offline.resolved'] });
    const offline = { key: 'node.offline|node:dr1', subject: 'node:dr1', severity: 'warning', summary: 'dr1 offline' };
    await addEvent('s1', 'agent.degraded', { what: 'garp', detail: 'x' });
    await addEvent('s1', 'node.offline', offline);
    await addEvent('s2', 'node.offline.resolved', offline);
    await addEvent('s1', 'apply.succeeded', { revision: 2 });
    expect(await enqueueDeliveries(db)).toBe(2);
    expect(await queuedFor()).toEqual({ w1: [1, 3] });
  });

  it("severity: the cloud's stamp in the data wins over the type's; a stamp that is not a severity leaves the type's", async () => {
    const { db } = tdb;
    await db.insert(webhooks).values([
      { id: 'crit', orgId: 'o', url, secret, minSeverity: 'critical' },
      { id: 'warn', orgId: 'o', url, secret, minSeverity: 'warning' },
    ]);
    const quorum = { service: 'web', weight: 0, quorum: 1 };
    await addEvent('s1', 'vrrp.transition', { instance: 'VI_1', from: 'MASTER', to: 'FAULT', reason: 'x', severity: 'critical' }); // 1: info type, stamped critical
    await addEvent('s1', 'service.quorum_lost', { ...quorum, severity: 'info' }); // 2: critical type, stamped info
    await addEvent('s1', 'service.quorum_lost', { ...quorum, severity: 'loud' }); // 3: not a severity: the type's critical
    await addEvent('s1', 'service.quorum_lost', quorum); // 4: the type's critical
    await addEvent('s1', 'config.rejected', { why: 'signature', detail: 'x' }); // 5: the type's warning
    await addEvent('s1', 'apply.succeeded', { revision: 2, severity: 3 }); // 6: not a severity: the type's info
    await addEvent('s1', 'node.offline.resolved', { key: 'node.offline|node:dr1' }); // 7: as loud as what it resolves: warning
    await enqueueDeliveries(db);
    expect(await queuedFor()).toEqual({ crit: [1, 3, 4], warn: [1, 3, 4, 5, 7] });
  });

  it("a condition's type without a string key is a director's own report: never delivered; its resolution is", async () => {
    const { db } = tdb;
    await db.insert(webhooks).values({ id: 'all', orgId: 'o', url, secret });
    await addEvent('s1', 'apply.failed', { revision: 2, error: 'exit 1' }); // 1: an agent's
    await addEvent('s1', 'apply.failed', { key: 'apply.failed|node:dr1', severity: 'warning', summary: 'x' }); // 2: the condition
    await addEvent('s1', 'node.offline', {}); // 3: presence, no key
    await addEvent('s1', 'node.offline', { key: 5 }); // 4: a key that is not a string
    await addEvent('s1', 'site.no_master.resolved', { summary: 'x' }); // 5: a resolution is not a condition's type
    await enqueueDeliveries(db);
    expect(await queuedFor()).toEqual({ all: [2, 5] });
  });

  it('the cursor moves past events no webhook wants, so a round that wants none still ends and the next reads none of them', async () => {
    const { db } = tdb;
    await db.insert(webhooks).values([
      { id: 'crit', orgId: 'o', url, secret, minSeverity: 'critical' },
      { id: 'nowhere', orgId: 'o', url, secret, siteName: 'nowhere' },
    ]);
    // More than two batches of unwanted events: no batch fills, each round ends at its first.
    await addEvents(450, () => 'apply.succeeded');
    expect(await enqueueDeliveries(db)).toBe(0);
    expect(await cursorOf('crit')).toBe(450);
    expect(await cursorOf('nowhere')).toBe(450);
    await addEvent('s1', 'service.quorum_lost', { service: 'web', weight: 0, quorum: 1 });
    expect(await enqueueDeliveries(db)).toBe(1);
    expect(await queuedFor()).toEqual({ crit: [451] });
    expect(await cursorOf('crit')).toBe(451);
    expect(await cursorOf('nowhere')).toBe(451);
  });

  it('more than a batch of wanted events among unwanted ones: all queued in one round, each once', async () => {
    const { db } = tdb;
    await db.insert(webhooks).values({ id: 'warn', orgId: 'o', url, secret, minSeverity: 'warning' });
    // Every other event a warning: 300 of 600, so full batches come before the short one.
    await addEvents(600, (i) => (i % 2 ? 'agent.degraded' : 'apply.succeeded'));
    expect(await enqueueDeliveries(db)).toBe(300);
    expect((await queuedFor()).warn).toEqual(Array.from({ length: 300 }, (_, i) => 2 * (i + 1)));
    expect(await cursorOf('warn')).toBe(600);
    expect(await enqueueDeliveries(db)).toBe(0);
  });

  it(`a round walks ${ROUND_EVENTS} events at most, wanted or not, and the next goes on from there`, async () => {
    const { db } = tdb;
    await db.insert(webhooks).values({ id: 'warn', orgId: 'o', url, secret, minSeverity: 'warning' });
    // Wanted every other event at first (a full batch walks twice its size), then none, then one.
    await addEvents(ROUND_EVENTS + 100, (i) => (i < 600 && i % 2 ? 'agent.degraded' : 'apply.succeeded'));
    await addEvent('s1', 'agent.degraded', { what: 'garp', detail: 'x' });
    expect(await enqueueDeliveries(db)).toBe(300);
    expect(await cursorOf('warn')).toBe(ROUND_EVENTS);
    expect(await enqueueDeliveries(db)).toBe(1);
    expect(await cursorOf('warn')).toBe(await newestEventId());
  });

  it('Slack: a resolution says so and links to the status page', async () => {
    const { db } = tdb;
    await db.insert(webhooks).values({ id: 'w1', orgId: 'o', url, secret, format: 'slack' });
    await addEvent('s1', 'site.unreachable.resolved', {
      key: 'site.unreachable|site',
      subject: 'site',
      severity: 'critical',
      summary: 'resolved after 40s: bj-dc1: no director reachable',
    });
    await enqueueDeliveries(db, { baseUrl: 'https://fleet.example.com' });
    await deliverDue(db, { fetch: realFetch });
    const msg = JSON.parse(received[0].body);
    expect(msg.text).toBe(':white_check_mark: Resolved: *site.unreachable* on `bj-dc1`: resolved after 40s: bj-dc1: no director reachable');
    expect(JSON.stringify(msg.blocks)).toContain('<https://fleet.example.com/status/bj-dc1|status page>');
  });

  /**
   * `n` deliveries claimed by a replica whose first send never answers (it is gone with all of
   * them claimed, at t0); answers a round of another replica `ms` after t0, sending for real.
   */
  async function claimedByDyingReplica(n: number, timeoutMs: number): Promise<(ms: number) => ReturnType<typeof deliverDue>> {
    const { db } = tdb;
    await db.insert(webhooks).values({ id: 'w1', orgId: 'o', url, secret });
    for (let i = 0; i < n; i++) await addEvent('s1', 'node.online', { i });
    await enqueueDeliveries(db);
    let hung = false;
    const dying: Fetch = () => ((hung = true), new Promise(() => {}));
    void deliverDue(db, { fetch: dying, timeoutMs });
    await waitFor(() => hung, { what: 'the first send under way' });
    // The claims were made on the database's clock a moment ago: a round `ms` after them is one
    // after that much of it has passed (what has passed for real since is a few milliseconds more).
    let passed = 0;
    return async (ms) => {
      await elapse(db, ms - passed);
      passed = ms;
      return deliverDue(db, { fetch: realFetch, timeoutMs });
    };
  }

  it('a replica that dies mid-send holds up the delivery it was sending for one timeout and the slack, then another sends it with the same id', async () => {
    const { db } = tdb;
    const after = await claimedByDyingReplica(3, 10_000);
    expect(await after(10_000)).toEqual({ delivered: 0, retried: 0, failed: 0 });
    expect(await after(40_001)).toEqual({ delivered: 1, retried: 0, failed: 0 });
    const [first] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.status, 'delivered'));
    expect(received.map((r) => r.headers['webhook-id'])).toEqual([first.id]);
    expect(await after(60_001)).toEqual({ delivered: 2, retried: 0, failed: 0 });
  });

  it('a shorter send timeout shortens the claims with it: a dead replica holds its delivery back for one timeout and three of slack', async () => {
    const after = await claimedByDyingReplica(2, 2_000);
    expect(await after(7_000)).toEqual({ delivered: 0, retried: 0, failed: 0 });
    expect(await after(8_001)).toEqual({ delivered: 1, retried: 0, failed: 0 });
    expect(await after(10_001)).toEqual({ delivered: 1, retried: 0, failed: 0 });
  });

  it('claims the most urgent first: a critical alert queued behind a backlog of info events goes out in the first claim', async () => {
    const { db } = tdb;
    await db.insert(webhooks).values({ id: 'w1', orgId: 'o', url, secret });
    for (let i = 0; i < 30; i++) await addEvent('s1', 'node.online', { i });
    await addEvent('s1', 'site.split_brain', { key: 'site.split_brain|vrrp:VI_1', subject: 'vrrp:VI_1', severity: 'critical', summary: 'both MASTER' });
    await addEvent('s1', 'node.stale_revision', { key: 'node.stale_revision|node:dr1', subject: 'node:dr1', severity: 'warning', summary: 'behind' });
    expect(await enqueueDeliveries(db)).toBe(32);
    expect(await deliverDue(db, { fetch: realFetch })).toEqual({ delivered: 20, retried: 0, failed: 0 });
    const types = received.map((r) => (JSON.parse(r.body) as { type: string }).type);
    expect(types.slice(0, 3)).toEqual(['site.split_brain', 'node.stale_revision', 'node.online']);
    // The info events keep their own order behind them.
    expect(received.slice(2).map((r) => (JSON.parse(r.body) as { data: { data: { i: number } } }).data.data.i)).toEqual([...Array(18).keys()]);
  });

  it("a delivery is due to a claim right after it is queued, on the database's clock, whatever this process's clock says", async () => {
    const { db } = tdb;
    await db.insert(webhooks).values({ id: 'w1', orgId: 'o', url, secret });
    await addEvent('s1', 'node.online', {});
    // This process's clock a minute behind the database's, as a Worker's or a replica's may be off:
    // the delivery is queued at the database's now(), and claimed at it. (On PostgreSQL: PGlite's
    // clock is this process's, and moves with it.)
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() - 60_000);
      expect(await enqueueDeliveries(db)).toBe(1);
      expect((await claimDue(db, {})).map((l) => l.ids.length)).toEqual([1]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('treats an unreachable receiver as retryable', async () => {
    const { db } = tdb;
    await db.insert(webhooks).values({ id: 'w1', orgId: 'o', url: 'http://127.0.0.1:1/closed', secret });
    await addEvent('s1', 'node.online', {});
    await enqueueDeliveries(db);
    const r = await deliverDue(db, { fetch: realFetch, timeoutMs: 2_000 });
    expect(r).toEqual({ delivered: 0, retried: 1, failed: 0 });
    const [row] = await db.select().from(webhookDeliveries);
    expect(row.lastError).toBeTruthy();
  });
});
