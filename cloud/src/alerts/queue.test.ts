import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../db/test-db.test-support.ts';
import { events, orgs, sites, webhookDeliveries, webhooks } from '../db/schema.ts';
import { deliverDue, enqueueDeliveries, type Fetch } from './queue.ts';
import { newWebhookSecret, verifyWebhook } from './standard-webhooks.ts';
import { webhookFetch } from './webhook-transport.ts';

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
    await addEvent('s1', 'node.offline', {});
    expect(await enqueueDeliveries(db)).toBe(2);
    replies = [503, 404];
    let t = new Date('2030-01-01T00:00:00Z');
    const r1 = await deliverDue(db, { fetch: realFetch, now: () => t });
    expect(r1).toEqual({ delivered: 0, retried: 1, failed: 1 });
    const rows = await db.select().from(webhookDeliveries);
    const pending = rows.find((d) => d.status === 'pending')!;
    expect(pending.lastStatus).toBe(503);
    const wait = pending.nextAttemptAt.getTime() - t.getTime();
    expect(wait).toBeGreaterThanOrEqual(4_000);
    expect(wait).toBeLessThanOrEqual(6_000);
    // Not due yet: nothing is sent.
    expect(await deliverDue(db, { fetch: realFetch, now: () => t })).toEqual({ delivered: 0, retried: 0, failed: 0 });
    t = new Date(t.getTime() + 6_000);
    expect(await deliverDue(db, { fetch: realFetch, now: () => t })).toEqual({ delivered: 1, retried: 0, failed: 0 });
    const slack = received.find((r) => r.body.includes('"blocks"'));
    expect(JSON.parse(slack!.body).text).toContain('*node.offline* on `bj-dc1`: dr1 went offline');
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
