import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { CHROMIUM, haveChromium, launchChromium } from './chromium.test-support.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeStatus } from '../db/schema.ts';
import { useTestApp } from '../api/test-app.test-support.ts';
import { SEEDS_YAML } from '../../test/fixtures.test-support.ts';

/** The test's output folder (gitignored): screenshots for review. */
const OUTPUT = process.env.E2E_OUTPUT_DIR ?? join(import.meta.dirname, '..', '..', '..', 'e2e-output', 'pages');
mkdirSync(OUTPUT, { recursive: true });

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

  it('asks for a token, refuses a bad one, opens a cookie session, shows nodes, VRRP and real-server health, logs out', async () => {
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
    await page.screenshot({ path: join(OUTPUT, 'dashboard-login-390x844.png'), fullPage: true });

    // What a refresh asks the API for: fleet.json lists each site's rollouts, and a site's rollout
    // in progress is the only request of its own.
    const asked: string[] = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/v1/sites/') || u.pathname.startsWith('/dashboard/')) asked.push(u.pathname + u.search);
    });
    // A staged revision: its rollout shows stage by stage.
    const second = SEEDS_YAML.replace('weight: 2', 'weight: 3');
    expect((await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: second })).status).toBe(200);
    await page.reload();
    await page.waitForSelector('[data-rollout-state="running"]');
    const rollout = await site.locator('[data-rollout]').textContent();
    expect(rollout).toContain('revision 2 (from 1) by test-admin: running');
    expect(rollout).toContain('1. masters: dr1, dr2 — published');
    expect(asked).toEqual(['/dashboard/fleet.json', '/v1/sites/bj-dc1/rollout?history=0']);
    asked.length = 0;
    // Abort it (revision 3 restores revision 1's spec where it went) so the next test may apply.
    expect((await t.req('/v1/sites/bj-dc1/rollout/abort', { method: 'POST' })).status).toBe(200);
    // Once ended it is one line of the site's last rollouts, from their summaries.
    await page.reload();
    await page.waitForSelector('[data-rollout-state="aborted"]');
    const ended = await site.locator('[data-rollout]').textContent();
    expect(ended).toContain('no rollout in progress');
    expect(ended).toContain('revision 2 (from 1) by test-admin: aborted — aborted by test-admin (revision 3 restored revision 1)');
    expect(asked).toEqual(['/dashboard/fleet.json']);

    // The token is kept nowhere in the page: the session is an HttpOnly, SameSite=Strict cookie
    // the page's script cannot read, and a reload goes straight to the sites with it.
    expect(await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie)).toBe('{}{}');
    const cookies = await page.context().cookies();
    expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite, c.value.includes(t.tokens.viewer)])).toEqual([['lvsfleet_session', true, 'Strict', false]]);
    await page.reload();
    await page.waitForSelector('[data-site="bj-dc1"]');

    // Log out ends the session: the login form again, and the old cookie no longer opens anything.
    await page.click('#logout');
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.locator('[data-site]').count()).toBe(0);
    const stale = await fetch(`${t.url}/v1/sites`, { headers: { cookie: `${cookies[0].name}=${cookies[0].value}` } });
    expect(stale.status).toBe(401);
    await page.close();
  });

  it('shows a split brain as one red badge, sorts that site first, and diffs two revisions field by field', async () => {
    const sb = SEEDS_YAML.replace('metadata: { name: bj-dc1 }', 'metadata: { name: sb-dc2 }');
    expect((await t.req('/v1/sites/sb-dc2/spec', { method: 'PUT', yaml: sb })).status).toBe(200);
    const vrrp = [{ instance: 'VI_1', vrid: 50, state: 'MASTER', priority: 100, effectivePriority: 100 }];
    await t.db.db
      .insert(nodeStatus)
      .values(['dr1', 'dr2'].map((n) => ({ nodeId: `sb-dc2.${n}`, online: true, appliedRevision: 1, status: { appliedRevision: 1, vrrp, services: [] } })));
    const next = SEEDS_YAML.replace('scheduler: wlc', 'scheduler: rr');
    expect((await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: next })).status).toBe(200);

    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    expect((await page.request.post(t.url + '/v1/session', { data: { token: t.tokens.viewer } })).status()).toBe(201);
    await page.goto(t.url + '/');
    await page.waitForSelector('[data-site="sb-dc2"]');
    expect(await page.$$eval('section.site', (els) => els.map((e) => (e as HTMLElement).dataset.site))).toEqual(['sb-dc2', 'bj-dc1']);
    const group = page.locator('[data-site="sb-dc2"] [data-instance="VI_1"]');
    expect(await group.locator('.badge').count()).toBe(1);
    expect(await group.locator('.badge.red').textContent()).toBe('split brain: dr1 + dr2');

    const bj = page.locator('[data-site="bj-dc1"]');
    await bj.locator('summary', { hasText: 'Revisions' }).click();
    await bj.locator('.diff-form button').click();
    await expect.poll(() => bj.locator('.diff').textContent()).toContain('spec.services.web.scheduler');
    expect(await bj.locator('.diff tbody tr').count()).toBe(1);
    expect(await bj.locator('.diff tbody tr').textContent()).toContain('"wlc"');
    await page.screenshot({ path: join(OUTPUT, 'dashboard-split-brain-diff-390x844.png'), fullPage: true });
    await page.close();
  });
});
