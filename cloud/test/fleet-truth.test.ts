import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { verifyWebhook } from '../src/alerts/standard-webhooks.ts';
import { freePorts } from './net.test-support.ts';

/**
 * What the cloud says when it cannot see, end to end: `lvsfleet serve` (PGlite, aedes), two
 * director agents and one real-server agent as processes in dry-run, a webhook receiver on
 * loopback. Dry-run VRRP sends nothing, so the two directors cannot hear each other and both
 * become MASTER: a split brain, raised and then resolved when one goes. Both directors killed:
 * the status page says unknown (unreachable), never green, and the webhook gets
 * site.unreachable; one back: site.unreachable.resolved with its duration.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const ADMIN = `lvsf_ft_${randomBytes(16).toString('hex')}`;
const SITE = `apiVersion: lvsfleet/v1
kind: Site
metadata: { name: ft }
spec:
  nodes:
    - { name: d1, role: director, address: 127.0.0.1, interface: lo }
    - { name: d2, role: director, address: 127.0.0.3, interface: lo }
    - { name: r1, role: realserver, address: 127.0.0.2 }
  vrrp:
    - name: VI_1
      vrid: 61
      advertInterval: 1s
      vips: [127.0.0.50/32]
      members: [{ node: d1, priority: 100 }, { node: d2, priority: 90 }]
  services:
    - name: web
      vip: 127.0.0.50
      port: 8080
      healthCheck: { type: tcp, interval: 2s }
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
  return { p, exited, waitOut, output: () => out };
}

interface Hook {
  type: string;
  data: { site: string; summary: string; severity: string; data: Record<string, unknown> };
}

describe('fleet truth on the embedded stack', () => {
  const dirs: string[] = [];
  let receiver: Server | undefined;
  afterAll(async () => {
    for (const p of live) p.kill('SIGKILL');
    receiver?.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('split brain raised and resolved; both directors gone → unknown (unreachable) and site.unreachable; one back → resolved', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lvsfleet-truth-'));
    dirs.push(dir);
    const got: Hook[] = [];
    let secret = '';
    const bad: string[] = [];
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const ok = verifyWebhook(secret, req.headers as Record<string, string>, body, Math.floor(Date.now() / 1000));
        if (!ok) bad.push(body);
        got.push(JSON.parse(body) as Hook);
        res.end();
      });
    });
    await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

    const [port, mqttPort] = await freePorts(2);
    const url = `http://127.0.0.1:${port}`;
    const api = (path: string, init: RequestInit = {}) => fetch(url + path, { ...init, headers: { authorization: `Bearer ${ADMIN}`, ...init.headers } });
    const serve = start(
      'lvsfleet.mjs',
      ['serve', '--port', String(port), '--mqtt-port', String(mqttPort), '--data-dir', join(dir, 'cloud'), '--webhook-allow-private'],
      {
        LVSFLEET_ADMIN_TOKEN: ADMIN,
      },
    );
    await serve.waitOut(/lvsfleet serving on/);
    expect((await api('/v1/sites/ft/spec', { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: SITE })).status).toBe(200);
    const made = (await (
      await api('/v1/webhooks', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: hookUrl, minSeverity: 'warning' }),
      })
    ).json()) as { id: string; secret: string };
    secret = made.secret;

    const agents = new Map<string, string[]>();
    for (const node of ['d1', 'd2', 'r1']) {
      const tok = (await (await api(`/v1/sites/ft/nodes/${node}/enrollment`, { method: 'POST' })).json()) as { token: string };
      const config = join(dir, `${node}.json`);
      expect(await start('lvsfleet-agent.mjs', ['enroll', '--url', url, '--token', tok.token, '--config', config]).exited).toBe(0);
      agents.set(node, ['run', '--config', config, '--state-dir', join(dir, `${node}-state`), '--dataplane', 'dry-run']);
    }
    const run = (node: string) => start('lvsfleet-agent.mjs', agents.get(node)!);
    const d1 = run('d1');
    const d2 = run('d2');
    const r1 = run('r1');
    // The model's evaluation as the API answers it (the status page's JSON is Statuspage's summary shape).
    const status = async () =>
      ((await (await api('/v1/sites/ft/status')).json()) as { health: { state: string; vrrp: { state: string; reasons: { code: string }[] }[] } }).health;
    const hook = (type: string) => got.find((h) => h.type === type);

    // Dry-run VRRP hears nobody: both directors become MASTER.
    await waitFor(async () => (await status()).vrrp[0]?.state === 'split_brain', { timeoutMs: 60_000, what: 'split brain on the status page' });
    const page = await status();
    expect(page.state).not.toBe('operational');
    await waitFor(() => hook('site.split_brain'), { timeoutMs: 20_000, what: 'site.split_brain at the webhook' });
    expect(hook('site.split_brain')!.data.severity).toBe('critical');
    // Normal operation (INIT→BACKUP→MASTER, apply.succeeded) is info: not sent to a warning-and-up subscription.
    expect(got.map((h) => h.type)).not.toContain('vrrp.transition');
    expect(got.map((h) => h.type)).not.toContain('apply.succeeded');

    // One director gone: the split brain ends.
    d2.p.kill('SIGKILL');
    await d2.exited;
    await waitFor(() => hook('site.split_brain.resolved'), { timeoutMs: 20_000, what: 'site.split_brain.resolved at the webhook' });
    expect(hook('site.split_brain.resolved')!.data.data.durationMs).toBeGreaterThan(0);

    // Both gone: within 15 s the cloud says it cannot see, never green.
    d1.p.kill('SIGKILL');
    await d1.exited;
    const killedAt = Date.now();
    await waitFor(
      async () => {
        const s = await status();
        return s.vrrp[0].state === 'unknown' && s.vrrp[0].reasons.some((r) => r.code === 'unreachable') && ['unknown', 'major_outage'].includes(s.state);
      },
      { timeoutMs: 15_000, what: 'VI_1 unknown (unreachable) and the site unknown or major_outage' },
    );
    await waitFor(() => hook('site.unreachable'), { timeoutMs: 15_000 - (Date.now() - killedAt), what: 'site.unreachable at the webhook within 15 s' });
    expect(hook('site.unreachable')!.data.severity).toBe('critical');
    console.log(`fleet truth: site.unreachable reached the webhook ${Date.now() - killedAt} ms after the second director was killed`);
    const html = await (await api('/status/ft')).text(); // private page: the token opens it
    expect(html).toMatch(/<header class="overall grey"/);
    expect(html).not.toMatch(/class="badge green"/);

    // One back: the site is seen again, and the alert resolves with its duration.
    const back = run('d1');
    await waitFor(() => hook('site.unreachable.resolved'), { timeoutMs: 60_000, what: 'site.unreachable.resolved at the webhook' });
    const resolved = hook('site.unreachable.resolved')!;
    expect(resolved.data.severity).toBe('critical');
    expect(resolved.data.data.durationMs).toBeGreaterThanOrEqual(5_000);
    expect(resolved.data.summary).toMatch(/^resolved after \d+s: ft: no director reachable/);
    expect(bad).toEqual([]); // every delivery carried a valid signature

    // The sender marks a delivery after the receiver answered: the last one may still be on its way to "delivered".
    type Deliveries = { deliveries: { status: string; lastStatus: number }[] };
    const list = async () => ((await (await api(`/v1/webhooks/${made.id}/deliveries`)).json()) as Deliveries).deliveries;
    await waitFor(async () => (await list()).every((d) => d.status === 'delivered'), { timeoutMs: 15_000, what: 'every delivery marked delivered' }).catch(
      async (err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(await list())}`);
      },
    );
    const deliveries = { deliveries: await list() };
    expect(deliveries.deliveries.length).toBeGreaterThanOrEqual(4);
    expect(deliveries.deliveries.every((d) => d.status === 'delivered' && d.lastStatus === 200)).toBe(true);

    for (const p of [back, r1, serve]) p.p.kill('SIGTERM');
    await Promise.all([back.exited, r1.exited, serve.exited]);
  }, 240_000);
});
