import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { killTestProcesses, startProcess, type TestProcess } from '../src/cli/process.test-support.ts';
import { freePorts } from '../../cloud/test/net.test-support.ts';

/**
 * Key rotation end to end on the embedded cloud (docs/architecture.md, "Key rotation"):
 * `lvsfleet serve`, four directors as dry-run agents, `lvsfleet keys rotate` twice. d4 is stopped
 * during the first rotation and d3 during both. The running nodes pin each announced key before
 * anything is signed with it and take the re-signed revision they run without a replay; d4 catches
 * up through one certificate and takes part in the second rotation; the old keys stay until d3 is
 * back; d3 walks the chain across both rotations, and then both old keys retire.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const start = (bin: string, args: string[], env: Record<string, string> = {}) => startProcess(process.execPath, [join(ROOT, 'bin', bin), ...args], env);
const ADMIN = `lvsf_keys_${randomBytes(16).toString('hex')}`;

const siteYaml = (weight: number) => `apiVersion: lvsfleet/v1
kind: Site
metadata: { name: rot }
spec:
  nodes:
    - { name: d1, role: director, address: 127.0.0.1, interface: lo }
    - { name: d2, role: director, address: 127.0.0.3, interface: lo }
    - { name: d3, role: director, address: 127.0.0.4, interface: lo }
    - { name: d4, role: director, address: 127.0.0.5, interface: lo }
    - { name: r1, role: realserver, address: 127.0.0.2 }
  services:
    - name: web
      vip: 127.0.0.50
      port: 8080
      scheduler: wrr
      realServers:
        - { node: r1, weight: ${weight} }
`;

type KeyRow = { kid: string; state: string; missing: string[] };

describe('key rotation across a fleet', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    killTestProcesses();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('rotates twice with d4 offline for the first and d3 for both; every node ends on the newest key, no replay errors, old keys retired only after all acknowledged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lvsfleet-keys-e2e-'));
    dirs.push(dir);
    const [port, mqttPort] = await freePorts(2);
    const url = `http://127.0.0.1:${port}`;
    const api = (path: string, init: RequestInit = {}) => fetch(url + path, { ...init, headers: { authorization: `Bearer ${ADMIN}`, ...init.headers } });
    const put = async (yaml: string) =>
      expect((await api('/v1/sites/rot/spec', { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: yaml })).status).toBe(200);
    const keys = async () => ((await (await api('/v1/keys')).json()) as { generation: number; keys: KeyRow[] }).keys;
    const stateOf = async () => Object.fromEntries((await keys()).map((k) => [k.kid, k.state]));
    const cli = async (...args: string[]) => {
      const p = start('lvsfleet.mjs', args, { LVSFLEET_URL: url, LVSFLEET_TOKEN: ADMIN });
      const code = await p.exited;
      return { code, out: p.output() };
    };

    const serve = start('lvsfleet.mjs', ['serve', '--port', String(port), '--mqtt-port', String(mqttPort), '--data-dir', join(dir, 'cloud')], {
      LVSFLEET_ADMIN_TOKEN: ADMIN,
    });
    await serve.waitForOutput(/lvsfleet serving on/, 0, 90_000);
    await put(siteYaml(2));
    const [k0] = (await keys()).map((k) => k.kid);

    const names = ['d1', 'd2', 'd3', 'd4'] as const;
    const runArgs = (n: string) => ['run', '--config', join(dir, `${n}.json`), '--state-dir', join(dir, `state-${n}`), '--dataplane', 'dry-run'];
    for (const n of names) {
      const tok = (await (await api(`/v1/sites/rot/nodes/${n}/enrollment`, { method: 'POST' })).json()) as { token: string };
      expect(await start('lvsfleet-agent.mjs', ['enroll', '--url', url, '--token', tok.token, '--config', join(dir, `${n}.json`)]).exited).toBe(0);
    }
    const agents: Record<string, TestProcess> = {};
    for (const n of names) agents[n] = start('lvsfleet-agent.mjs', runArgs(n));
    for (const n of names) await agents[n].waitForOutput(/apply revision 1 succeeded/, 0, 90_000);
    // Every node acknowledged the first key set before d3 goes away.
    await waitFor(async () => (await keys())[0].missing.length === 0, { timeoutMs: 60_000, what: 'all nodes report k0 pinned' });

    // d3 and d4 stop cleanly: d4 misses the first rotation, d3 both.
    for (const n of ['d3', 'd4']) agents[n].p.kill('SIGTERM');
    for (const n of ['d3', 'd4']) expect(await agents[n].exited).toBe(0);
    const stopped = [agents.d3.output(), agents.d4.output()];

    // Rotation 1: announced under k0, active once d1 and d2 pinned it; k0 waits for d3.
    const r1 = await cli('keys', 'rotate');
    expect(r1.code).toBe(0);
    const k1 = /key (\S+) announced/.exec(r1.out)![1];
    await waitFor(async () => (await stateOf())[k1] === 'active', { timeoutMs: 60_000, what: `${k1} active` });
    for (const n of ['d1', 'd2']) {
      await agents[n].waitForOutput(new RegExp(`revision 1 re-signed with key ${k1}`), 0, 30_000);
      // pinned before it signed anything
      const out = agents[n].output();
      expect(out.indexOf(`${k1} (announced)`)).toBeGreaterThan(-1);
      expect(out.indexOf(`${k1} (announced)`)).toBeLessThan(out.indexOf(`re-signed with key ${k1}`));
    }
    expect(await stateOf()).toMatchObject({ [k0]: 'retiring', [k1]: 'active' });

    // d4 returns pinned to k0: the certificate k0→k1 vouches for the re-signed revision 1.
    agents.d4 = start('lvsfleet-agent.mjs', runArgs('d4'));
    await agents.d4.waitForOutput(new RegExp(`revision 1 re-signed with key ${k1}`), 0, 60_000);
    await waitFor(async () => !(await keys()).find((k) => k.kid === k1)!.missing.includes('rot.d4'), { timeoutMs: 30_000, what: `d4 reports ${k1}` });
    expect(await stateOf()).toMatchObject({ [k0]: 'retiring' }); // d3 still has only k0

    // Rotation 2, with d4 back (it must pin k2 before k2 signs), still without d3.
    const r2 = await cli('keys', 'rotate');
    expect(r2.code).toBe(0);
    const k2 = /key (\S+) announced/.exec(r2.out)![1];
    await waitFor(async () => (await stateOf())[k2] === 'active', { timeoutMs: 60_000, what: `${k2} active` });
    for (const n of ['d1', 'd2', 'd4']) {
      await agents[n].waitForOutput(new RegExp(`revision 1 re-signed with key ${k2}`), 0, 30_000);
      const out = agents[n].output();
      expect(out.indexOf(`${k2} (announced)`)).toBeGreaterThan(-1);
      expect(out.indexOf(`${k2} (announced)`)).toBeLessThan(out.indexOf(`re-signed with key ${k2}`));
    }

    // A new revision while d3 is away, signed with the newest key.
    await put(siteYaml(7));
    for (const n of ['d1', 'd2', 'd4']) {
      await agents[n].waitForOutput(new RegExp(`accepted revision 2 signed with key ${k2}`), 0, 30_000);
      await agents[n].waitForOutput(/apply revision 2 succeeded/, 0, 30_000);
    }
    // Nobody retires a key d3 still depends on, however long we wait.
    await new Promise((r) => setTimeout(r, 3000));
    const list = await cli('keys', 'list');
    expect(list.code).toBe(0);
    expect(list.out).toMatch(new RegExp(`${k0}\\s+retiring`));
    expect(list.out).toMatch(new RegExp(`${k2}\\s+active .*rot\\.d3`));
    expect(await stateOf()).toMatchObject({ [k0]: 'retiring', [k1]: 'retiring', [k2]: 'active' });
    expect((await keys()).find((k) => k.kid === k2)!.missing).toEqual(['rot.d3']);

    // d3 returns pinned to k0 alone; the chain k0→k1→k2 brings it to revision 2.
    agents.d3 = start('lvsfleet-agent.mjs', runArgs('d3'));
    await agents.d3.waitForOutput(new RegExp(`accepted revision 2 signed with key ${k2}`), 0, 60_000);
    await agents.d3.waitForOutput(/apply revision 2 succeeded/, 0, 30_000);
    await waitFor(
      async () => {
        const s = await stateOf();
        return s[k0] === 'retired' && s[k1] === 'retired' && s[k2] === 'active';
      },
      { timeoutMs: 60_000, what: 'both old keys retired after d3 acknowledged' },
    );

    // Retirement reaches every agent: each pins k2 alone, and nothing was ever called a replay.
    for (const [n, p] of Object.entries(agents)) {
      await waitFor(
        async () => {
          const pinned = JSON.parse(await readFile(join(dir, `state-${n}`, 'keys.json'), 'utf8')) as { keys: { kid: string }[] };
          return pinned.keys.map((k) => k.kid).join() === k2;
        },
        { timeoutMs: 30_000, what: `${n} pins ${k2} alone` },
      );
      expect(p.output()).not.toMatch(/config rejected/);
    }
    for (const out of stopped) expect(out).not.toMatch(/config rejected/);
    const status = (await (await api('/v1/sites/rot/status')).json()) as { nodes: { name: string; appliedRevision: number | null }[] };
    expect(Object.fromEntries(status.nodes.filter((n) => n.name !== 'r1').map((n) => [n.name, n.appliedRevision]))).toEqual({ d1: 2, d2: 2, d3: 2, d4: 2 });
    expect(serve.output()).not.toMatch(/rotation step failed/);
  }, 480_000);
});
