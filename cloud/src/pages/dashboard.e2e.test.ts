import type { Browser } from 'playwright-core';
import { CHROMIUM, haveChromium, launchChromium } from './chromium.test-support.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeStatus } from '../db/schema.ts';
import { useTestApp } from '../api/test-app.test-support.ts';
import { SEEDS_YAML } from '../../test/fixtures.test-support.ts';

if (!haveChromium) console.log(`skip: dashboard e2e needs Chromium at ${CHROMIUM} (apt-get install chromium)`);

/** The operator dashboard at `/`, on the real API (auth, /v1/sites) over a real database. */
describe.skipIf(!haveChromium)('dashboard in Chromium', () => {
  const t = useTestApp({ listen: true, reset: 'once' });
  let browser: Browser;

  beforeAll(async () => {
    const put = await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: SEEDS_YAML });
    expect(put.status).toBe(200);
    await t.db.db.insert(nodeStatus).values({
      nodeId: 'bj-dc1.dr1',
      online: true,
      appliedRevision: 1,
      status: {
        appliedRevision: 1,
        vrrp: [{ instance: 'VI_1', vrid: 50, state: 'MASTER', priority: 100, effectivePriority: 100 }],
        services: [
          {
            name: 'web',
            quorum: true,
            realServers: [
              { address: '192.168.1.132', port: 80, healthy: true, weight: 2 },
              { address: '192.168.1.133', port: 80, healthy: false, weight: 0 },
              { address: '192.168.1.113', port: 80, healthy: true, weight: 1 },
            ],
          },
        ],
      },
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('asks for a token, refuses a bad one, then shows nodes, VRRP and real-server health', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(t.url + '/');
    await page.waitForSelector('#login:not([hidden])');
    await page.fill('#token', 'lvf_not-a-token');
    await page.click('#login button');
    await expect.poll(() => page.textContent('#error')).toContain('token refused (401)');

    await page.fill('#token', t.tokens.viewer);
    await page.click('#login button');
    await page.waitForSelector('[data-site="bj-dc1"]');
    expect(await page.isHidden('#login')).toBe(true);
    const site = page.locator('[data-site="bj-dc1"]');
    expect(await site.locator('[data-instance="VI_1"] .badge').textContent()).toBe('MASTER dr1');
    expect(await site.locator('[data-instance="VI_1"] .detail').textContent()).toContain('dr2 unseen');
    expect(await site.locator('[data-service="web"] > .badge').textContent()).toBe('degraded performance');
    expect(await site.locator('[data-node="dr2"]').textContent()).toContain('dr2 has never reported');
    expect(await site.locator('[data-service="web"] [data-rs="192.168.1.133:80"]').textContent()).toContain('down');
    expect(await site.locator('tbody tr').count()).toBe(4);
    expect(await page.textContent('#summary')).toContain('1 degraded performance');
    expect(await page.isHidden('#stale')).toBe(true);
    await page.screenshot({ path: `${process.env.TMPDIR ?? '/tmp'}/lvsfleet-dashboard.png`, fullPage: true });

    // The token stays in the browser: a reload goes straight to the sites.
    await page.reload();
    await page.waitForSelector('[data-site="bj-dc1"]');
    await page.close();
  });
});
