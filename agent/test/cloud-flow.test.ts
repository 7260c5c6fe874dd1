import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';

/**
 * End to end with the embedded cloud, everything real on loopback: `lvsfleet serve` (PGlite,
 * aedes, publisher, ingest), apply a site, enroll an agent, receive and verify the signed
 * revision, apply it (dry-run dataplane on a director), status in GET /v1/sites/{site}/status;
 * then the cloud dies and a restarted agent comes back on its cached revision.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const ADMIN = `lvsf_e2e_${randomBytes(16).toString('hex')}`;

const SPEC = (weight: number) => `apiVersion: lvsfleet/v1
kind: Site
metadata: { name: e2e }
spec:
  nodes:
    - { name: d1, role: director, address: 127.0.0.1, interface: lo }
    - { name: r1, role: realserver, address: 127.0.0.2 }
  services:
    - name: web
      vip: 127.0.0.50
      port: 8080
      scheduler: wrr
      realServers:
        - { node: r1, weight: ${weight} }
`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const procs = new Set<ChildProcess>();
function start(bin: string, args: string[], env: Record<string, string> = {}) {
  const p = spawn(process.execPath, [join(ROOT, 'bin', bin), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  procs.add(p);
  let out = '';
  let closed = false;
  const changed = new EventEmitter();
  const append = (b: Buffer) => {
    out += b.toString();
    changed.emit('change');
  };
  p.stdout!.on('data', append);
  p.stderr!.on('data', append);
  const exited = new Promise<number>((r) =>
    p.on('close', (c) => {
      procs.delete(p);
      closed = true;
      changed.emit('change');
      r(c ?? -1);
    }),
  );
  /**
   * Settles on the process's own output: answers the output's length once `re` matches what it
   * wrote after `from`, and fails as soon as the process exits without it (or after `ms`, with
   * the output, rather than at the test's timeout without it).
   */
  const saw = (re: RegExp, from = 0, ms = 60_000) =>
    new Promise<number>((resolve, reject) => {
      const done = (settle: () => void) => {
        changed.off('change', check);
        clearTimeout(deadline);
        settle();
      };
      const check = () => {
        if (re.test(out.slice(from))) done(() => resolve(out.length));
        else if (closed) done(() => reject(new Error(`${bin} exited without ${re}; output:\n${out}`)));
      };
      const deadline = setTimeout(() => done(() => reject(new Error(`${bin}: no ${re} within ${ms} ms; output:\n${out}`))), ms);
      changed.on('change', check);
      check();
    });
  return { p, exited, saw, output: () => out };
}

describe('agent with the embedded cloud', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('enrolls, receives a signed revision, applies it, reports status; survives the cloud going away', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lvsfleet-agent-e2e-'));
    dirs.push(dir);
    const [port, mqttPort] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${port}`;
    const api = (path: string, init: RequestInit = {}) => fetch(url + path, { ...init, headers: { authorization: `Bearer ${ADMIN}`, ...init.headers } });
    const put = async (yaml: string) => {
      const r = await api('/v1/sites/e2e/spec', { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: yaml });
      expect(r.status).toBe(200);
    };

    const serve = start('lvsfleet.mjs', ['serve', '--port', String(port), '--mqtt-port', String(mqttPort), '--data-dir', join(dir, 'cloud')], {
      LVSFLEET_ADMIN_TOKEN: ADMIN,
    });
    await serve.saw(/lvsfleet serving on/, 0, 90_000);
    await put(SPEC(2));
    const tok = (await (await api('/v1/sites/e2e/nodes/d1/enrollment', { method: 'POST' })).json()) as { token: string };

    const config = join(dir, 'agent.json');
    const enroll = start('lvsfleet-agent.mjs', ['enroll', '--url', url, '--token', tok.token, '--config', config]);
    expect(await enroll.exited).toBe(0);
    expect((await stat(config)).mode & 0o777).toBe(0o600);
    const reuse = start('lvsfleet-agent.mjs', ['enroll', '--url', url, '--token', tok.token, '--config', join(dir, 'again.json')]);
    expect(await reuse.exited).not.toBe(0); // one-time token

    const state = join(dir, 'state');
    const args = ['run', '--config', config, '--state-dir', state, '--dataplane', 'dry-run'];
    const agent = start('lvsfleet-agent.mjs', args);
    await agent.saw(/apply revision 1 succeeded/);
    expect(agent.output()).toContain('-a -t 127.0.0.50:8080 -r 127.0.0.2:8080 -g -w 2');

    type SiteStatus = {
      nodes: { name: string; online: boolean; appliedRevision: number | null; services: { realServers: { weight: number }[] }[] }[];
      events: { type: string }[];
    };
    const site = () => api('/v1/sites/e2e/status').then((r) => r.json() as Promise<SiteStatus>);
    const d1 = async () => (await site()).nodes.find((n) => n.name === 'd1');
    await waitFor(
      async () => {
        const n = await d1();
        return n?.online && n.appliedRevision === 1 && n.services[0]?.realServers[0]?.weight === 2;
      },
      'd1 online on revision 1 in the site status',
      30_000,
      200,
    );

    // What the agent wrote for revision 2: a weight edit of the real server, no service re-created.
    const beforeRev2 = agent.output().length;
    await put(SPEC(7));
    await agent.saw(/apply revision 2 succeeded/, beforeRev2);
    const rev2 = agent.output().slice(beforeRev2);
    expect(rev2).toContain('-e -t 127.0.0.50:8080 -r 127.0.0.2:8080 -g -w 7');
    expect(rev2).not.toContain('-A -t');
    await waitFor(async () => (await d1())?.appliedRevision === 2, 'revision 2 in the site status', 30_000, 200);
    expect((await site()).events.map((e) => e.type)).toContain('apply.succeeded');

    // A crashed agent: the broker publishes its last will and the site status shows it offline.
    agent.p.kill('SIGKILL');
    await agent.exited;
    await waitFor(async () => (await d1())?.online === false, 'd1 offline after a crash (last will)', 90_000, 200);
    const back = start('lvsfleet-agent.mjs', args);
    await back.saw(/booting from cached revision 2/);
    const connected = await back.saw(/mqtt connected/);
    // The retained revision 2 is the one it has: taken as a re-delivery, not refused as a replay.
    await back.saw(/desired document unchanged \(retained re-delivery\)/);
    expect(back.output()).not.toMatch(/config rejected/);
    await waitFor(async () => (await d1())?.online === true, 'd1 online again', 30_000, 200);

    // The cloud goes away: the agent keeps running, then restarts on its cached revision.
    serve.p.kill('SIGTERM');
    await serve.exited;
    await back.saw(/mqtt disconnected; reconnecting/, connected);
    back.p.kill('SIGTERM');
    expect(await back.exited).toBe(0);
    const again = start('lvsfleet-agent.mjs', args);
    await again.saw(/booting from cached revision 2/);
    await again.saw(/apply revision 2 succeeded/);
    again.p.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    const status = start('lvsfleet-agent.mjs', ['status', '--state-dir', state, '-o', 'json']);
    expect(await status.exited).toBe(0);
    expect(JSON.parse(status.output())).toMatchObject({ nodeId: 'e2e.d1', appliedRevision: 2 });
  }, 240_000);
});
