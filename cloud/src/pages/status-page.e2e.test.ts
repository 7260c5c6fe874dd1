import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axe from 'axe-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { freePort, freePorts } from '../../test/net.test-support.ts';
import { CHROMIUM, haveChromium, launchChromium } from './chromium.test-support.ts';

if (!haveChromium) console.log(`skip: pages e2e needs Chromium at ${CHROMIUM} (apt-get install chromium)`);

/**
 * The status page and the dashboard on the real stack: `lvsfleet serve` (PGlite, embedded
 * broker) with a director and a real-server agent as processes in dry-run, the real server
 * checked over TCP on loopback. Both pages at 390×844 and 1280×800, light and dark, checked with
 * axe-core; the director killed → the open page shows the reason and the incident without a
 * reload; JavaScript off → the status page still says the state; the server stopped → the
 * stale banner, not the browser's error page. Screenshots go to OUTPUT.
 */
const ROOT = join(import.meta.dirname, '..', '..', '..');
/** The test's output folder (gitignored): screenshots for review. */
const OUTPUT = process.env.E2E_OUTPUT_DIR ?? join(ROOT, 'e2e-output', 'pages');
const ADMIN = `lvsf_e2e_${randomBytes(16).toString('hex')}`;
/** axe-core's own source, for injection into the page (its documented `source`). */
const AXE = axe.source;
const VIEWPORTS = [
  { width: 390, height: 844 },
  { width: 1280, height: 800 },
] as const;
const SCHEMES = ['light', 'dark'] as const;

const site = (rsPort: number) => `apiVersion: lvsfleet/v1
kind: Site
metadata: { name: e2e }
spec:
  statusPage: { public: true, title: E2E web, hideAddresses: true }
  nodes:
    - { name: d1, role: director, address: 127.0.0.1, interface: lo }
    - { name: r1, role: realserver, address: 127.0.0.2 }
  vrrp:
    - name: VI_1
      vrid: 71
      advertInterval: 1s
      vips: [127.0.0.60/32]
      members: [{ node: d1, priority: 100 }]
  services:
    - name: web
      vip: 127.0.0.60
      port: ${rsPort}
      healthCheck: { type: tcp, interval: 1s, timeout: 1s }
      realServers:
        - { node: r1, weight: 1 }
`;

const live = new Set<ChildProcess>();
function start(bin: string, args: string[], env: Record<string, string> = {}) {
  const p = spawn(process.execPath, [join(ROOT, 'bin', bin), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  live.add(p);
  let out = '';
  p.stdout!.on('data', (b) => (out += b));
  p.stderr!.on('data', (b) => (out += b));
  const exited = new Promise<number>((r) => p.on('close', (c) => (live.delete(p), r(c ?? -1))));
  const waitOut = (re: RegExp, timeoutMs = 90_000) => waitFor(() => re.test(out), { timeoutMs, what: `${re} from ${bin}; output:\n${out}` });
  return { p, exited, waitOut };
}

/** axe-core's critical and serious violations on the page as it is (its source evaluated over CDP: the page's CSP allows no inline script). */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run: (ctx: Document, o: object) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> };
      }
    ).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, where: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return found.filter((v) => v.impact === 'critical' || v.impact === 'serious').map((v) => `${v.impact} ${v.id} at ${v.where.join(', ')}`);
}

describe.skipIf(!haveChromium)('status page and dashboard on the real stack, in Chromium', () => {
  let dir: string;
  let url: string;
  let browser: Browser;
  /** The dashboard session's cookie, made once: POST /v1/session shares the public endpoints' per-address limit (burst 10). */
  let session: Awaited<ReturnType<BrowserContext['storageState']>>;
  let rs: Server;
  let serve: ReturnType<typeof start>;
  let d1: ReturnType<typeof start>;
  const contexts: BrowserContext[] = [];
  const api = (path: string, init: RequestInit = {}) => fetch(url + path, { ...init, headers: { authorization: `Bearer ${ADMIN}`, ...init.headers } });
  const summary = async () =>
    (await (await fetch(`${url}/status/e2e.json`)).json()) as { status: { indicator: string }; components: { id: string; status: string }[] };

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    dir = await mkdtemp(join(tmpdir(), 'lvsfleet-pages-e2e-'));
    // The real server's service: a TCP listener on the real-server node's loopback address.
    const rsPort = await freePort();
    rs = createServer((s) => s.end());
    await new Promise<void>((r) => rs.listen(rsPort, '127.0.0.2', r));
    const [port, mqttPort] = await freePorts(2);
    url = `http://127.0.0.1:${port}`;
    serve = start('lvsfleet.mjs', ['serve', '--port', String(port), '--mqtt-port', String(mqttPort), '--data-dir', join(dir, 'cloud')], {
      LVSFLEET_ADMIN_TOKEN: ADMIN,
    });
    await serve.waitOut(/lvsfleet serving on/);
    const put = await api('/v1/sites/e2e/spec', { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: site(rsPort) });
    expect(put.status, await put.clone().text()).toBe(200);
    const runArgs = new Map<string, string[]>();
    for (const node of ['d1', 'r1']) {
      const tok = (await (await api(`/v1/sites/e2e/nodes/${node}/enrollment`, { method: 'POST' })).json()) as { token: string };
      const config = join(dir, `${node}.json`);
      expect(await start('lvsfleet-agent.mjs', ['enroll', '--url', url, '--token', tok.token, '--config', config]).exited).toBe(0);
      runArgs.set(node, ['run', '--config', config, '--state-dir', join(dir, `${node}-state`), '--dataplane', 'dry-run']);
    }
    d1 = start('lvsfleet-agent.mjs', runArgs.get('d1')!);
    start('lvsfleet-agent.mjs', runArgs.get('r1')!);
    let last: unknown = null;
    await waitFor(
      async () => {
        last = await summary();
        // Dry-run agents run no health checks: the real server stays "not checked yet", so the site is unknown, with VI_1 mastered by d1.
        const c = (last as Awaited<ReturnType<typeof summary>>).components;
        return c.find((x) => x.id === 'vrrp:VI_1')?.status === 'operational' && c.some((x) => x.id === 'service:web');
      },
      { timeoutMs: 100_000, intervalMs: 500, what: 'the site operational on its status page' },
    ).catch(async (err: Error) => {
      const why = (await (await api('/v1/sites/e2e/status')).json()) as { reasons: unknown; nodes: unknown };
      throw new Error(
        `${err.message}; last summary: ${JSON.stringify(last)}; the model says ${JSON.stringify(why.reasons)}; nodes ${JSON.stringify(why.nodes)}`,
      );
    });
    browser = await launchChromium();
    // The session: the token traded for its HttpOnly cookie, as the login form does; every page's context starts with it.
    const login = await browser.newContext();
    expect((await login.request.post(url + '/v1/session', { data: { token: ADMIN } })).status()).toBe(201);
    session = await login.storageState();
    await login.close();
  }, 300_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    for (const p of live) p.kill('SIGKILL');
    rs?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function open(path: string, viewport: { width: number; height: number }, colorScheme: 'light' | 'dark', javaScriptEnabled = true): Promise<Page> {
    const ctx = await browser.newContext({ viewport, colorScheme, javaScriptEnabled, storageState: session });
    contexts.push(ctx);
    const page = await ctx.newPage();
    const res = await page.goto(url + path);
    expect(res?.status()).toBe(200);
    return page;
  }

  it('both pages, both sizes, light and dark: the state shown, no horizontal scroll, no critical or serious axe violation', async () => {
    const problems: string[] = [];
    for (const viewport of VIEWPORTS) {
      for (const scheme of SCHEMES) {
        const tag = `${viewport.width}x${viewport.height}-${scheme}`;
        const status = await open('/status/e2e', viewport, scheme);
        expect(await status.getAttribute('#overall', 'data-overall')).toBe('unknown');
        expect(await status.textContent('#overall')).toContain('Status unknown');
        expect(await status.textContent('[data-service="web"] .badge')).toBe('unknown');
        expect(await status.textContent('[data-service="web"] .reasons')).toContain('web: 0 of 1 real servers up (1 not checked yet)');
        expect(await status.textContent('[data-instance="VI_1"] .badge')).toBe('master d1');
        await waitFor(async () => /Last updated \d+ s ago/.test((await status.textContent('#freshness')) ?? ''), { timeoutMs: 5_000, what: 'last updated' });
        expect(await status.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
        problems.push(...(await axeViolations(status)).map((v) => `status ${tag}: ${v}`));
        await status.screenshot({ path: join(OUTPUT, `status-${tag}.png`), fullPage: true });

        const dash = await open('/', viewport, scheme);
        await dash.waitForSelector('[data-site="e2e"]');
        expect(await dash.textContent('[data-site="e2e"] [data-instance="VI_1"] .badge')).toBe('MASTER d1');
        expect(await dash.textContent('[data-site="e2e"] [data-service="web"]')).toMatch(/127\.0\.0\.2:\d+ not checked/);
        expect(await dash.textContent('#summary')).toContain('1 unknown');
        expect(await dash.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
        problems.push(...(await axeViolations(dash)).map((v) => `dashboard ${tag}: ${v}`));
        await dash.screenshot({ path: join(OUTPUT, `dashboard-${tag}.png`), fullPage: true });
      }
    }
    expect(problems).toEqual([]);
  });

  it('with JavaScript off the status page still says the state, and leaks no address', async () => {
    const page = await open('/status/e2e', VIEWPORTS[0], 'light', false);
    expect(await page.textContent('#overall')).toContain('Status unknown');
    expect(await page.textContent('[data-instance="VI_1"] .badge')).toBe('master d1');
    expect(await page.textContent('[data-service="web"] .detail')).toContain('0/1 servers up · 1 not checked');
    expect(await page.textContent('noscript')).toContain('does not refresh itself without JavaScript');
    const html = await page.content();
    expect(html).not.toMatch(/127\.0\.0\.\d/);
    await page.screenshot({ path: join(OUTPUT, 'status-nojs-390x844.png'), fullPage: true });
  });

  it('a director killed: the open pages show the reason and the incident; the server stopped: the stale banner', async () => {
    const status = await open('/status/e2e', VIEWPORTS[0], 'light');
    const dash = await open('/', VIEWPORTS[1], 'dark');
    await dash.waitForSelector('[data-site="e2e"]');
    d1.p.kill('SIGKILL');
    await d1.exited;
    const killedAt = Date.now();
    // No reload: the page's script brings the change (every 10 s), the alert follows its 5 s debounce.
    const reasons = () => status.evaluate(() => [...document.querySelectorAll('#status .reasons li')].map((li) => li.textContent).join(' | '));
    await waitFor(async () => (await reasons()).includes('d1') && (await status.$('#incidents [data-open="true"]')), {
      timeoutMs: 40_000,
      what: 'the reason naming d1 and an open incident on the status page',
    });
    const shownAfter = Date.now() - killedAt;
    console.log(`pages e2e: reason and incident on the status page ${shownAfter} ms after the director was killed`);
    console.log(`pages e2e: reasons shown: ${await reasons()}`);
    expect(await status.textContent('#incidents')).toMatch(/ongoing for/);
    await status.screenshot({ path: join(OUTPUT, 'status-director-killed-390x844.png'), fullPage: true });
    await waitFor(async () => dash.$('[data-site="e2e"] [data-alert]'), { timeoutMs: 30_000, what: 'an open alert on the dashboard' });
    await dash.screenshot({ path: join(OUTPUT, 'dashboard-director-killed-1280x800-dark.png'), fullPage: true });

    serve.p.kill('SIGTERM');
    await serve.exited;
    await waitFor(async () => status.isVisible('#stale'), { timeoutMs: 40_000, what: 'the stale banner on the status page' });
    expect(await status.textContent('#stale')).toMatch(/Cannot reach the server/);
    // The last state stays on screen under the banner.
    expect(await status.getAttribute('#overall', 'data-overall')).not.toBeNull();
    await status.screenshot({ path: join(OUTPUT, 'status-server-stopped-390x844.png'), fullPage: true });
    await waitFor(async () => dash.isVisible('#stale'), { timeoutMs: 40_000, what: 'the stale banner on the dashboard' });
    expect(await dash.isVisible('[data-site="e2e"]')).toBe(true);
    await dash.screenshot({ path: join(OUTPUT, 'dashboard-server-stopped-1280x800-dark.png'), fullPage: true });
    console.log(`pages e2e: screenshots in ${OUTPUT}`);
  });
});
