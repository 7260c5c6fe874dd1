import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Browser } from 'playwright-core';
import { CHROMIUM, haveChromium, launchChromium } from './chromium.test-support.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/client.ts';
import { nodes, nodeStatus, orgs, siteRevisions, sites } from '../db/schema.ts';
import { parseSite } from '#shared/site/parse.ts';
import { createPagesRouter } from './routes.ts';
import { StatusBook } from '../status/book.ts';
import { readHistory } from '../status/history.ts';
import { readAlerts } from '../status/incident-store.ts';

if (!haveChromium) console.log(`skip: status page e2e needs Chromium at ${CHROMIUM} (apt-get install chromium)`);

describe.skipIf(!haveChromium)('public status page in Chromium', () => {
  let database: Database;
  let server: ServerType;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    database = await openDatabase({});
    const { db } = database;
    const parsed = parseSite(readFileSync(new URL('../../../examples/seeds-lvs-dr.yaml', import.meta.url), 'utf8'));
    if (!parsed.ok) throw new Error('example must be valid');
    await db.insert(orgs).values({ id: 'org1', name: 'default' });
    await db.insert(sites).values({ id: 's1', orgId: 'org1', name: 'bj-dc1', currentRevision: 1 });
    const spec = { ...parsed.site, spec: { ...parsed.site.spec, statusPage: { public: true, hideAddresses: true } } };
    await db.insert(siteRevisions).values({ siteId: 's1', revision: 1, spec, specHash: 'h', author: 'test' });
    for (const n of parsed.site.spec.nodes) {
      await db.insert(nodes).values({ id: `bj-dc1.${n.name}`, siteId: 's1', name: n.name, role: n.role, address: n.address, desiredRevision: 1 });
    }
    const rsHealth = (rs2: boolean) => [
      { address: '192.168.1.132', port: 80, healthy: true, weight: 2 },
      { address: '192.168.1.133', port: 80, healthy: rs2, weight: 1 },
      { address: '192.168.1.113', port: 80, healthy: true, weight: 1 },
    ];
    const report = (name: string, state: string) => ({
      nodeId: `bj-dc1.${name}`,
      online: true,
      status: {
        appliedRevision: 1,
        vrrp: [{ instance: 'VI_1', vrid: 50, state, priority: 100, effectivePriority: 100 }],
        services: [{ name: 'web', quorum: true, realServers: rsHealth(false) }],
      },
    });
    for (const r of [report('dr1', 'MASTER'), report('dr2', 'BACKUP')]) {
      await db.insert(nodeStatus).values({ nodeId: r.nodeId, online: true, appliedRevision: 1, status: r.status });
    }
    const book = new StatusBook(db);
    const app = createPagesRouter({
      loadView: (s) => book.byName(s),
      listViews: () => book.all(),
      loadHistory: (id, subjects, since) => readHistory(db, id, subjects, since),
      loadAlerts: (id, since) => readAlerts(db, id, since),
      canView: async (h) => h === 'Bearer good',
    });
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    await database?.close();
  });

  it('shows the degraded service and the master on a phone-sized screen', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const res = await page.goto(`${base}/status/bj-dc1`);
    expect(res?.status()).toBe(200);
    await expect.poll(() => page.getAttribute('#overall', 'data-overall')).toBe('degraded_performance');
    expect(await page.textContent('[data-service="web"] .badge')).toBe('degraded');
    expect(await page.textContent('[data-service="web"] .detail')).toContain('2/3 servers up');
    // The real servers never reported: the page says so instead of counting them healthy.
    expect(await page.textContent('#overall')).toContain('Degraded performance');
    expect(await page.textContent('[data-instance="VI_1"] .badge')).toBe('master dr1');
    const body = await page.textContent('body');
    expect(body).not.toContain('192.168.1.133');
    // No horizontal scrolling on a phone.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${process.env.TMPDIR ?? '/tmp'}/lvsfleet-status-page.png`, fullPage: true });
    await page.close();
  });

  it('answers 404 for an unknown site and keeps the full view behind a token', async () => {
    const page = await browser.newPage();
    expect((await page.goto(`${base}/status/nope`))?.status()).toBe(401);
    expect((await page.goto(`${base}/dashboard/sites/bj-dc1.json`))?.status()).toBe(401);
    const pub = await (await fetch(`${base}/status/bj-dc1.json`)).json();
    expect(JSON.stringify(pub)).not.toContain('192.168.1.132');
    const full = await (await fetch(`${base}/dashboard/sites/bj-dc1.json`, { headers: { authorization: 'Bearer good' } })).json();
    expect(full.services[0].realServers).toHaveLength(3);
    await page.close();
  });
});
