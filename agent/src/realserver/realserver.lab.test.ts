import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinuxDataplane } from '../dataplane/linux.ts';
import { tempDir } from '../engine/engine.test-support.ts';
import { RealServerRole } from './role.ts';
import { netnsSkipReason } from '../netns-reason.test-support.ts';

/** Root and `ip netns` are needed; the reason is printed when the test cannot run. */
const reason = netnsSkipReason();
if (reason) console.log(`skipping real-server netns lab: ${reason}`);

const NS = `lvsf-rs-${process.pid}-${Date.now().toString(36)}`;
const sh = (...args: string[]) => execFileSync('ip', ['netns', 'exec', NS, ...args], { encoding: 'utf8' }).trim();
const addrs = () =>
  JSON.parse(execFileSync('ip', ['-n', NS, '-j', '-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' }))[0].addr_info as { local: string; label?: string }[];

describe.skipIf(reason !== null)('real-server role in a network namespace (real ip and sysctl)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    execFileSync('ip', ['netns', 'add', NS]);
    execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    sh('sysctl', '-q', '-w', 'net.ipv4.conf.all.arp_announce=1');
  });
  afterAll(async () => {
    try {
      execFileSync('ip', ['netns', 'del', NS]);
    } finally {
      await cleanup();
    }
  });

  it('sets up the DR VIP and ARP sysctls, repairs drift, and restores the previous values on removal', async () => {
    const dp = createLinuxDataplane({ netns: NS });
    const role = () => new RealServerRole(dp, `${dir}/realserver.json`, () => {});
    const vips = [{ address: '10.99.0.50', forwarding: 'dr' as const, services: ['web'], expectedGateways: [] }];

    expect(await role().converge(vips)).toEqual({ ok: true, drift: [], warnings: [] });
    expect(addrs()).toContainEqual(expect.objectContaining({ local: '10.99.0.50', label: 'lo:lvs' }));
    expect(sh('sysctl', '-n', 'net.ipv4.conf.all.arp_ignore')).toBe('1');
    expect(sh('sysctl', '-n', 'net.ipv4.conf.lo.arp_announce')).toBe('2');

    // Drift: someone removes the VIP from lo by hand and resets a sysctl.
    execFileSync('ip', ['-n', NS, 'addr', 'del', '10.99.0.50/32', 'dev', 'lo']);
    sh('sysctl', '-q', '-w', 'net.ipv4.conf.lo.arp_ignore=0');
    const drift = await role().converge(vips);
    expect(drift.drift).toEqual(['VIP 10.99.0.50/32 missing from lo', 'sysctl net.ipv4.conf.lo.arp_ignore=0 (want 1)']);
    expect(addrs().map((a) => a.local)).toContain('10.99.0.50');
    expect(sh('sysctl', '-n', 'net.ipv4.conf.lo.arp_ignore')).toBe('1');

    // The VIP leaves the config: address gone, previous values back.
    expect((await role().converge([])).ok).toBe(true);
    expect(addrs().map((a) => a.local)).not.toContain('10.99.0.50');
    expect(sh('sysctl', '-n', 'net.ipv4.conf.all.arp_announce')).toBe('1');
    expect(sh('sysctl', '-n', 'net.ipv4.conf.all.arp_ignore')).toBe('0');
    expect(sh('sysctl', '-n', 'net.ipv4.conf.lo.arp_ignore')).toBe('0');
  });

  it('TUN on a kernel without ipip reports the failure instead of dying', async () => {
    const dp = createLinuxDataplane({ netns: NS });
    const hasIpip = (() => {
      try {
        execFileSync('ip', ['-n', NS, 'link', 'show', 'tunl0'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
    const r = await new RealServerRole(dp, `${dir}/tun.json`, () => {}).converge([
      { address: '10.99.0.60', forwarding: 'tun', services: ['x'], expectedGateways: [] },
    ]);
    if (hasIpip) {
      expect(r.ok).toBe(true);
      expect(sh('sysctl', '-n', 'net.ipv4.conf.tunl0.rp_filter')).toBe('0');
    } else {
      const created = r.ok;
      // Either `ip link add … type ipip` loaded the module (then it worked) or it failed cleanly.
      if (!created) expect(r.error).toMatch(/tunl0/);
      else expect(sh('sysctl', '-n', 'net.ipv4.conf.tunl0.rp_filter')).toBe('0');
    }
    await new RealServerRole(dp, `${dir}/tun.json`, () => {}).converge([]);
  });
});
