import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RealServerVip } from '#shared/config/node-config.ts';
import { MemoryHost } from '../dataplane/memory-host.ts';
import { tempDir } from '../engine/engine.test-support.ts';
import { canMountTmpfs, smallTmpfs, type SmallDisk } from '../state/tmpfs.test-support.ts';
import { realServerPlan } from './plan.ts';
import { RealServerRole } from './role.ts';

const dr = (address: string): RealServerVip => ({ address, forwarding: 'dr', services: ['web'], expectedGateways: [] });

describe('realServerPlan', () => {
  it('DR: VIP/32 on lo with arp_ignore=1 and arp_announce=2 for all and lo', () => {
    expect(realServerPlan([dr('10.99.0.50')], 'eth0')).toEqual({
      addresses: [{ ifname: 'lo', address: '10.99.0.50', prefix: 32, label: 'lo:lvs' }],
      sysctls: {
        'net.ipv4.conf.all.arp_ignore': '1',
        'net.ipv4.conf.all.arp_announce': '2',
        'net.ipv4.conf.lo.arp_ignore': '1',
        'net.ipv4.conf.lo.arp_announce': '2',
      },
      tunnels: [],
      natChecks: [],
    });
  });
  it('TUN: tunl0 with the VIP and rp_filter=0 for all and tunl0; NAT: a gateway check only', () => {
    const p = realServerPlan(
      [
        { address: '10.99.0.60', forwarding: 'tun', services: ['x'], expectedGateways: [] },
        { address: '10.99.0.70', forwarding: 'nat', services: ['y'], expectedGateways: ['10.99.0.1'] },
      ],
      'eth0',
    );
    expect(p.tunnels).toEqual([{ ifname: 'tunl0' }]);
    expect(p.addresses).toEqual([{ ifname: 'tunl0', address: '10.99.0.60', prefix: 32, label: null }]);
    expect(p.sysctls).toEqual({ 'net.ipv4.conf.all.rp_filter': '0', 'net.ipv4.conf.tunl0.rp_filter': '0' });
    expect(p.natChecks).toEqual([{ vip: '10.99.0.70', expectedGateways: ['10.99.0.1'] }]);
  });
  it('IPv6 TUN without an IPv6 node address: an error naming the VIP', () => {
    const tun6: RealServerVip = { address: '2001:db8:6c::60', forwarding: 'tun', services: ['x'], expectedGateways: [] };
    expect(() => realServerPlan([tun6], 'eth0', null)).toThrow(/TUN VIP 2001:db8:6c::60: the node has no IPv6 address/);
  });
  it('IPv6 DR: VIP/128 on lo, no label, no ARP sysctls (Neighbor Discovery needs none), IPv6 kept on for lo', () => {
    expect(realServerPlan([dr('2001:db8:6c::50')], 'eth0')).toEqual({
      addresses: [{ ifname: 'lo', address: '2001:db8:6c::50', prefix: 128, label: null }],
      sysctls: { 'net.ipv6.conf.lo.disable_ipv6': '0' },
      tunnels: [],
      natChecks: [],
    });
  });
  it('dual stack: the v4 VIP gets its ARP sysctls, the v6 VIP only its /128; TUN over lvs6tnl0 for the node address; NAT checks both families', () => {
    const p = realServerPlan(
      [
        dr('10.99.0.50'),
        dr('2001:db8:6c::50'),
        { address: '2001:db8:6c::60', forwarding: 'tun', services: ['x'], expectedGateways: [] },
        { address: '2001:db8:6c::70', forwarding: 'nat', services: ['y'], expectedGateways: ['2001:db8:6c::1'] },
      ],
      'bond0',
      '2001:db8:6c::21',
    );
    expect(p.addresses).toEqual([
      { ifname: 'lo', address: '10.99.0.50', prefix: 32, label: 'lo:lvs' },
      { ifname: 'lo', address: '2001:db8:6c::50', prefix: 128, label: null },
      { ifname: 'lvs6tnl0', address: '2001:db8:6c::60', prefix: 128, label: null },
    ]);
    // Not the fallback ip6tnl0: it drops ip6ip6 whose outer source (the director's VIP) is local here.
    expect(p.tunnels).toEqual([{ ifname: 'lvs6tnl0', local: '2001:db8:6c::21' }]);
    expect(Object.keys(p.sysctls).sort()).toEqual([
      'net.ipv4.conf.all.arp_announce',
      'net.ipv4.conf.all.arp_ignore',
      'net.ipv4.conf.lo.arp_announce',
      'net.ipv4.conf.lo.arp_ignore',
      'net.ipv6.conf.bond0.accept_redirects',
      'net.ipv6.conf.default.accept_redirects',
      'net.ipv6.conf.lo.disable_ipv6',
    ]);
    expect(p.natChecks).toEqual([{ vip: '2001:db8:6c::70', expectedGateways: ['2001:db8:6c::1'] }]);
  });
});

describe('RealServerRole (in-memory host)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('sets up, repairs drift, and on removal restores the previous values, across a restart', async () => {
    const host = new MemoryHost();
    host.sysctls.set('net.ipv4.conf.all.arp_announce', '1'); // an operator's own value, to be restored
    const role = new RealServerRole(host, `${dir}/rs.json`, () => {});
    expect(await role.converge([dr('10.99.0.50')])).toEqual({ ok: true, drift: [], warnings: [] });
    expect(host.addresses).toEqual([{ ifname: 'lo', address: '10.99.0.50', prefix: 32, label: 'lo:lvs' }]);
    expect(host.sysctls.get('net.ipv4.conf.all.arp_announce')).toBe('2');

    await host.deleteAddress(host.addresses[0]);
    host.sysctls.set('net.ipv4.conf.lo.arp_ignore', '0');
    const again = await new RealServerRole(host, `${dir}/rs.json`, () => {}).converge([dr('10.99.0.50')]);
    expect(again.drift).toEqual(['VIP 10.99.0.50/32 missing from lo', 'sysctl net.ipv4.conf.lo.arp_ignore=0 (want 1)']);
    expect(host.addresses).toHaveLength(1);

    const removed = await new RealServerRole(host, `${dir}/rs.json`, () => {}).converge([]);
    expect(removed.ok).toBe(true);
    expect(host.addresses).toEqual([]);
    expect(host.sysctls.get('net.ipv4.conf.all.arp_announce')).toBe('1');
    expect(host.sysctls.get('net.ipv4.conf.lo.arp_ignore')).toBe('0');
  });

  it('never removes an address it did not add', async () => {
    const host = new MemoryHost();
    await host.addAddress({ ifname: 'lo', address: '10.99.0.51', prefix: 32, label: null });
    await new RealServerRole(host, `${dir}/rs.json`, () => {}).converge([]);
    expect(host.addresses).toHaveLength(1);
  });

  it('NAT: warns when the default route does not go via an expected gateway', async () => {
    const host = new MemoryHost({ routes: [{ gateway: '10.99.0.254', dev: 'eth0' }] });
    const r = await new RealServerRole(host, `${dir}/rs.json`, () => {}).converge([
      { address: '10.99.0.70', forwarding: 'nat', services: ['y'], expectedGateways: ['10.99.0.1'] },
    ]);
    expect(r.warnings).toEqual(['NAT VIP 10.99.0.70: default route via 10.99.0.254, expected one of 10.99.0.1']);
    host.routes = [{ gateway: '10.99.0.1', dev: 'eth0' }];
    expect(
      (
        await new RealServerRole(host, `${dir}/rs.json`, () => {}).converge([
          { address: '10.99.0.70', forwarding: 'nat', services: ['y'], expectedGateways: ['10.99.0.1'] },
        ])
      ).warnings,
    ).toEqual([]);
  });

  it('IPv6 TUN with no IPv6 node address: not converged, the error names the VIP, nothing changed', async () => {
    const host = new MemoryHost();
    const r = await new RealServerRole(host, `${dir}/rs.json`, () => {}).converge([
      { address: '2001:db8:6c::60', forwarding: 'tun', services: ['x'], expectedGateways: [] },
    ]);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/TUN VIP 2001:db8:6c::60/);
    expect(host.addresses).toEqual([]);
    expect(host.links.has('lvs6tnl0')).toBe(false);
  });

  it('TUN: brings tunl0 up before putting the VIP on it', async () => {
    const host = new MemoryHost();
    const r = await new RealServerRole(host, `${dir}/rs.json`, () => {}).converge([
      { address: '10.99.0.60', forwarding: 'tun', services: ['x'], expectedGateways: [] },
    ]);
    expect(r.ok).toBe(true);
    expect(host.links.get('tunl0')).toBe(true);
    expect(host.sysctls.get('net.ipv4.conf.tunl0.rp_filter')).toBe('0');
  });

  it('IPv6: DR VIP on lo, TUN VIP on lvs6tnl0 (local = the node address) brought up, a NAT check against an IPv6 gateway; disable_ipv6 restored on removal', async () => {
    const host = new MemoryHost({ routes: [{ gateway: 'fe80::1', dev: 'eth0' }] });
    host.sysctls.set('net.ipv6.conf.lo.disable_ipv6', '1'); // a host that had IPv6 off on lo
    const vips: RealServerVip[] = [
      dr('2001:db8:6c::50'),
      { address: '2001:db8:6c::60', forwarding: 'tun', services: ['x'], expectedGateways: [] },
      { address: '2001:db8:6c::70', forwarding: 'nat', services: ['y'], expectedGateways: ['fe80::2'] },
    ];
    const r = await new RealServerRole(host, `${dir}/rs.json`, () => {}).converge(vips, {}, 'eth0', '2001:db8:6c::21');
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual(['NAT VIP 2001:db8:6c::70: default route via fe80::1, expected one of fe80::2']);
    expect(host.links.get('lvs6tnl0')).toBe(true);
    expect(host.tunnelLocals.get('lvs6tnl0')).toBe('2001:db8:6c::21');
    expect(host.links.has('ip6tnl0')).toBe(false);
    expect(host.links.has('tunl0')).toBe(false);
    expect(host.addresses).toEqual([
      { ifname: 'lo', address: '2001:db8:6c::50', prefix: 128, label: null },
      { ifname: 'lvs6tnl0', address: '2001:db8:6c::60', prefix: 128, label: null },
    ]);
    expect(host.sysctls.get('net.ipv6.conf.lo.disable_ipv6')).toBe('0');
    expect(host.sysctls.get('net.ipv6.conf.eth0.accept_redirects')).toBe('0');
    expect(host.sysctls.get('net.ipv4.conf.all.arp_ignore')).toBe('0');

    expect((await new RealServerRole(host, `${dir}/rs.json`, () => {}).converge([])).ok).toBe(true);
    expect(host.addresses).toEqual([]);
    expect(host.sysctls.get('net.ipv6.conf.lo.disable_ipv6')).toBe('1');
    expect(host.sysctls.get('net.ipv6.conf.eth0.accept_redirects')).toBe('1');
  });
});

describe('RealServerRole state file', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('a corrupt realserver.json is logged by name and replaced; the role still converges', async () => {
    const f = `${dir}/realserver.json`;
    await writeFile(f, '{"saved": {"net.ipv4.conf.all.arp_announce": 1}, "addresses": []}');
    const host = new MemoryHost();
    const logs: string[] = [];
    const r = await new RealServerRole(host, f, (l) => logs.push(l)).converge([dr('10.99.0.50')]);
    expect(r.ok).toBe(true);
    expect(logs.filter((l) => l.includes('corrupt'))).toEqual([
      expect.stringMatching(new RegExp(`^state file ${f} is corrupt \\(saved\\.net\\.ipv4\\.conf\\.all\\.arp_announce: .*\\); starting without it$`)),
    ]);
    expect(JSON.parse(await readFile(f, 'utf8'))).toMatchObject({ addresses: [{ address: '10.99.0.50' }], saved: { 'net.ipv4.conf.all.arp_announce': '0' } });
  });

  it('a pass that changes nothing does not rewrite the file', async () => {
    const f = `${dir}/realserver.json`;
    const role = new RealServerRole(new MemoryHost(), f, () => {});
    await role.converge([dr('10.99.0.50')]);
    const ino = (await stat(f)).ino;
    for (let i = 0; i < 3; i++) expect((await role.converge([dr('10.99.0.50')])).ok).toBe(true);
    expect((await stat(f)).ino).toBe(ino);
  });
});

describe.skipIf(!canMountTmpfs)('RealServerRole on a full disk', () => {
  let disk: SmallDisk;
  beforeEach(async () => {
    disk = await smallTmpfs();
  });
  afterEach(() => disk.unmount());

  it('converges the host, reports the unwritable file by name (no throw, no temp file), and writes it once there is room', async () => {
    const f = `${disk.dir}/realserver.json`;
    const host = new MemoryHost();
    await disk.fill();
    const role = new RealServerRole(host, f, () => {});
    const r = await role.converge([dr('10.99.0.50')]);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(new RegExp(`^${f}: ENOSPC`));
    expect(host.addresses).toHaveLength(1);
    expect(await readdir(disk.dir)).toEqual(['filler']);
    await disk.free();
    expect(await role.converge([dr('10.99.0.50')])).toEqual({ ok: true, drift: [], warnings: [] });
    expect(JSON.parse(await readFile(f, 'utf8'))).toMatchObject({ addresses: [{ address: '10.99.0.50' }] });
  });
});
