import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isNull } from 'drizzle-orm';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Site } from '#shared/site/site.ts';
import { openDatabase, type Database } from '../db/client.ts';
import { alerts, events, nodeStatus, nodes, orgs, webhookDeliveries, webhooks } from '../db/schema.ts';
import { openTestDatabase, type TestDatabase } from '../db/test-db.test-support.ts';
import { applySite } from '../sites/apply.ts';
import { startAlerter, type Alerter } from './alerter.ts';
import { newWebhookSecret } from './standard-webhooks.ts';
import { webhookFetch } from './webhook-transport.ts';

/**
 * Three alerters on one database, as three `lvsfleet serve` replicas run them: every round of all
 * three at once raises each alert once, and the webhook receiver gets each delivery once. On
 * PostgreSQL (DATABASE_URL) each alerter has its own connection pool, so their transactions really
 * race; on PGlite they share the one connection and interleave between statements.
 */
describe('alerts and webhooks exactly once across replicas', () => {
  let tdb: TestDatabase;
  const extra: Database[] = [];
  const replicas: Alerter[] = [];
  let server: Server;
  const received: string[] = [];
  // Starts at the real time: rows the database stamps (defaultNow) must be due on this clock.
  let clock = Date.now();

  beforeAll(async () => {
    tdb = await openTestDatabase();
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push(String(req.headers['webhook-id']));
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const seeds = Site.parse(parse(readFileSync(fileURLToPath(new URL('../../../examples/seeds-lvs-dr.yaml', import.meta.url)), 'utf8')));
    await tdb.db.insert(orgs).values({ id: 'default', name: 'default' }).onConflictDoNothing();
    await applySite(tdb.db, { orgId: 'default', site: seeds, author: 'test' });
    // Every node has reported once and is offline now (its last will): conditions to alert on.
    const ids = (await tdb.db.select({ id: nodes.id }).from(nodes)).map((n) => n.id);
    await tdb.db.insert(nodeStatus).values(ids.map((nodeId) => ({ nodeId, online: false, updatedAt: new Date(clock - 60_000) })));
    await tdb.db.insert(webhooks).values({ id: 'wh_replicas', orgId: 'default', url, secret: newWebhookSecret(), format: 'standard' });
    for (let i = 0; i < 3; i++) {
      const db = tdb.url ? extra[extra.push(await openDatabase({ url: tdb.url })) - 1].db : tdb.db;
      replicas.push(
        startAlerter({ db, intervalMs: 3_600_000, alerts: { debounceMs: 0 }, fetch: webhookFetch({ allowPrivate: true }), now: () => new Date(clock) }),
      );
    }
  }, 60_000);

  afterAll(async () => {
    for (const r of replicas) await r.close();
    for (const d of extra) await d.close();
    server?.close();
    await tdb?.close();
  });

  it('every node offline: each alert raised, stored, queued and sent once', async () => {
    for (let round = 0; round < 6; round++) {
      clock += 10_000;
      await Promise.all(replicas.map((r) => r.tick()));
    }
    const raised = await tdb.db.select().from(events);
    const open = await tdb.db.select().from(alerts).where(isNull(alerts.resolvedAt));
    const deliveries = await tdb.db.select().from(webhookDeliveries);
    // There are conditions to raise (nodes offline, no master), and each is raised once.
    expect(open.length).toBeGreaterThan(0);
    expect(raised.length).toBe(open.length);
    expect(new Set(raised.map((e) => e.type + '|' + JSON.stringify(e.data))).size).toBe(raised.length);
    expect(deliveries.length).toBe(raised.length);
    expect(deliveries.every((d) => d.status === 'delivered')).toBe(true);
    expect(received.sort()).toEqual(deliveries.map((d) => d.id).sort());
  }, 60_000);
});
