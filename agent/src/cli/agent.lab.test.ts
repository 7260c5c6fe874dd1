import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../engine/engine.test-support.ts';
import { netnsSkipReason } from '../netns-reason.test-support.ts';
import { labSiteYaml } from '../site-yaml.test-support.ts';
import { killTestProcesses, startProcess } from './process.test-support.ts';

/**
 * The real agent process (`lvsfleet-agent run --spec … --dataplane linux`) on real hosts: one
 * network namespace per node, real `ip`, `sysctl`, `ipvsadm`. This kernel has no ip_vs, so the
 * director must come up degraded (IPVS failed, the rest applied) and keep running.
 */
const reason = netnsSkipReason();
if (reason) console.log(`skipping agent netns lab: ${reason}`);

const BIN = join(import.meta.dirname, '../../../bin/lvsfleet-agent.mjs');
const TAG = `lvsf-ag-${process.pid}-${Date.now().toString(36)}`;
const NS = { rs1: `${TAG}-rs1`, d1: `${TAG}-d1`, m1: `${TAG}-m1` };

/** The agent in the namespace of its node. */
const agent = (ns: string, args: string[]) => startProcess('ip', ['netns', 'exec', ns, process.execPath, BIN, ...args]);

const inNs = (ns: string, ...args: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...args], { encoding: 'utf8' }).trim();
const loAddrs = (ns: string) =>
  (JSON.parse(execFileSync('ip', ['-n', ns, '-j', '-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' }))[0].addr_info as { local: string }[]).map(
    (a) => a.local,
  );

describe.skipIf(reason !== null)('lvsfleet-agent in network namespaces (linux dataplane)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    for (const ns of Object.values(NS)) {
      execFileSync('ip', ['netns', 'add', ns]);
      execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    // m1's eth0 with its peer in m1 too, both up (a link with carrier): a VRRP MASTER alone on it.
    execFileSync('ip', ['-n', NS.m1, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0']);
    execFileSync('ip', ['-n', NS.m1, 'addr', 'add', '10.99.0.11/24', 'dev', 'eth0']);
    for (const dev of ['eth0', 'peer0']) execFileSync('ip', ['-n', NS.m1, 'link', 'set', dev, 'up']);
  });
  afterAll(async () => {
    killTestProcesses();
    for (const ns of Object.values(NS)) execFileSync('ip', ['netns', 'del', ns]);
    await cleanup();
  });

  it('real server: sets up the VIP, keeps it over a restart (hitless), removes it and restores sysctls when its service drops it', async () => {
    const spec = join(dir, 'site.yaml');
    await writeFile(spec, labSiteYaml(true));
    const args = ['run', '--spec', spec, '--node', 'rs1', '--state-dir', join(dir, 'rs1'), '--dataplane', 'linux'];
    const a = agent(NS.rs1, args);
    await a.waitForOutput(/apply revision 1 succeeded/);
    expect(loAddrs(NS.rs1)).toContain('10.99.0.50');
    expect(inNs(NS.rs1, 'sysctl', '-n', 'net.ipv4.conf.all.arp_ignore')).toBe('1');
    a.p.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(loAddrs(NS.rs1)).toContain('10.99.0.50'); // restarts are hitless

    const b = agent(NS.rs1, args);
    const at = await b.waitForOutput(/apply revision 1 succeeded/);
    expect(b.output()).not.toMatch(/realserver added/); // adopted, not re-added
    await writeFile(spec, labSiteYaml(false));
    b.p.kill('SIGHUP');
    await b.waitForOutput(/apply revision 2 succeeded/, at);
    expect(loAddrs(NS.rs1)).not.toContain('10.99.0.50');
    expect(inNs(NS.rs1, 'sysctl', '-n', 'net.ipv4.conf.all.arp_ignore')).toBe('0');
    expect(inNs(NS.rs1, 'sysctl', '-n', 'net.ipv4.conf.lo.arp_announce')).toBe('0');
    b.p.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  });

  it('a VRRP MASTER with connection sync exits on SIGTERM: its VIP released, its linger ended before its ip helper closed', async () => {
    // The stop ends the linger of the VIPs it releases; the host closed its `ip -batch` helper while
    // those ends still ran, the next one restarted it, and the agent never exited (SIGKILL after 60 s).
    const spec = join(dir, 'site-m.yaml');
    await writeFile(
      spec,
      `apiVersion: lvsfleet/v1
kind: Site
metadata: { name: lab }
spec:
  bfdDefault: false
  nodes:
    - { name: m1, role: director, address: 10.99.0.11, interface: eth0 }
    - { name: m2, role: director, address: 10.99.0.12, interface: eth0 }
  vrrp:
    - name: VI_1
      vrid: 50
      version: 3
      advertInterval: 100ms
      vips: [10.99.0.50/32, 10.99.0.60/32, 10.99.0.70/32]
      members: [{ node: m1, priority: 100, initialState: MASTER }, { node: m2, priority: 90 }]
  connectionSync: { instance: VI_1, syncId: 50 }
  services: []
`,
    );
    const a = agent(NS.m1, ['run', '--spec', spec, '--node', 'm1', '--state-dir', join(dir, 'm1'), '--dataplane', 'linux']);
    await a.waitForOutput(/vrrp VI_1 \S+→MASTER/);
    await vi.waitFor(() => expect(inNs(NS.m1, 'ip', '-4', 'addr', 'show', 'dev', 'eth0')).toContain('10.99.0.70/32'), { timeout: 10_000, interval: 100 });
    const at = a.output().length;
    a.p.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(inNs(NS.m1, 'ip', '-4', 'addr', 'show', 'dev', 'eth0')).not.toContain('10.99.0.50/32');
    expect(inNs(NS.m1, 'ip', '-4', 'rule', 'show')).not.toContain('7911');
    expect(a.output().slice(at)).not.toMatch(/after the ip -batch helper was closed/);
  }, 30_000);

  it('director on a kernel without ip_vs: IPVS reported failed, sysctls applied, the agent keeps running', async () => {
    const spec = join(dir, 'site-d.yaml');
    await writeFile(spec, labSiteYaml(true));
    const state = join(dir, 'd1');
    const a = agent(NS.d1, ['run', '--spec', spec, '--node', 'd1', '--state-dir', state, '--dataplane', 'linux']);
    await a.waitForOutput(/apply revision 1 failed: ipvs: /);
    expect(inNs(NS.d1, 'sysctl', '-n', 'net.ipv4.conf.all.send_redirects')).toBe('0');
    await new Promise((r) => setTimeout(r, 1000));
    expect(a.p.exitCode).toBeNull();
    const status = JSON.parse(await readFile(join(state, 'status.json'), 'utf8'));
    expect(status.ipvs.ok).toBe(false);
    expect(status.ipvs.error).toMatch(/Protocol not available|ipvsadm is not installed/);
    expect(status.pendingRevision).toBe(1);
    a.p.kill('SIGTERM');
    expect(await a.exited).toBe(0);
  });
});
