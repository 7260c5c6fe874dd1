import { afterEach, describe, expect, it } from 'vitest';
import { compileNode } from '#shared/compiler/compile.ts';
import { validateSite } from '#shared/site/validate.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import type { VrrpChannelOptions } from '../dataplane/vrrp-host.ts';
import { decodePacket, encodeAdvert, encodeIp6Packet, encodeIpPacket, VRRP_GROUP6 } from './codec.ts';
import { startVrrp, type VrrpRunner } from './driver.ts';
import { MemoryLan } from './sim/memory-lan.ts';

// One director, dual stack, with an IPv4 (VRID 51) and an IPv6 (VRID 52, or `vrid6`) instance on one link.
function dualStack(vrid6 = 52) {
  const r = validateSite({
    apiVersion: 'lvsfleet/v1',
    kind: 'Site',
    metadata: { name: 'lab' },
    spec: {
      nodes: [
        { name: 'd1', role: 'director', address: '10.99.0.11', address6: '2001:db8:99::11', interface: 'eth0' },
        { name: 'd2', role: 'director', address: '10.99.0.12', address6: '2001:db8:99::12', interface: 'eth0' },
      ],
      bfdDefault: false,
      vrrp: ['10.99.0.50/32', '2001:db8:99::50/64'].map((vip, i) => ({
        name: `VI_${i ? 6 : 4}`,
        vrid: i ? vrid6 : 51,
        version: 3,
        advertInterval: '50ms',
        vips: [vip],
        members: [
          { node: 'd1', priority: 150, initialState: 'MASTER' },
          { node: 'd2', priority: 100 },
        ],
        garp: { masterDelay: '0s' },
      })),
    },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return compileNode(r.site, 'd1');
}

const LINK_LOCAL = 'fe80::11';
const runners: VrrpRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

describe('IPv4 and IPv6 instances on one interface', () => {
  it('get a channel each; IPv6 adverts go to ff02::12 from the link-local address the channel reports', async () => {
    const cfg = dualStack();
    const opened: VrrpChannelOptions[] = [];
    const sent: { ipv6: boolean; destination: string; vrrp: Buffer }[] = [];
    const inject = new Map<boolean, (p: Buffer) => void>();
    const base = new MemoryLan().host('10.99.0.11');
    const r = await startVrrp({
      nodeId: 'lab.d1',
      node: cfg.node,
      config: cfg.vrrp,
      host: {
        ...base,
        openChannel: async (o, onPacket) => {
          opened.push(o);
          const ipv6 = o.ipv6 === true;
          inject.set(ipv6, onPacket);
          return {
            ...(ipv6 ? { sourceAddress: LINK_LOCAL } : {}),
            send: (vrrp, destination) => sent.push({ ipv6, destination, vrrp }),
            close: async () => {},
          };
        },
      },
      emit: () => {},
      log: () => {},
    });
    runners.push(r);
    expect(opened).toEqual([
      { interface: 'eth0', sourceAddress: '10.99.0.11', multicast: true },
      { interface: 'eth0', sourceAddress: '2001:db8:99::11', multicast: true, ipv6: true },
    ]);
    await waitFor(() => r.status().every((s) => s.state === 'MASTER') && sent.some((s) => s.ipv6) && sent.some((s) => !s.ipv6), {
      what: 'the instance states',
    });
    const v6 = sent.find((s) => s.ipv6)!;
    expect(v6.destination).toBe(VRRP_GROUP6);
    // The checksum was computed over the link-local source the packet leaves from.
    expect(decodePacket(encodeIp6Packet(v6.vrrp, LINK_LOCAL, VRRP_GROUP6))).toMatchObject({
      ok: true,
      advert: { vrid: 52, priority: 150, addresses: ['2001:db8:99::50'], source: LINK_LOCAL },
    });
    expect(sent.find((s) => !s.ipv6)!.destination).toBe('224.0.0.18');

    // A higher-priority IPv6 master: only the IPv6 instance steps down.
    const peer = 'fe80::12';
    const advert = encodeAdvert({
      version: 3,
      vrid: 52,
      priority: 200,
      intervalMs: 50,
      addresses: ['2001:db8:99::50'],
      source: peer,
      destination: VRRP_GROUP6,
    });
    const feed = setInterval(() => inject.get(true)!(encodeIp6Packet(advert, peer, VRRP_GROUP6)), 20);
    try {
      await waitFor(() => r.status().find((s) => s.instance === 'VI_6')?.state === 'BACKUP', { what: 'the instance states' });
      expect(r.status().find((s) => s.instance === 'VI_4')?.state).toBe('MASTER');
      // An IPv6 advert with the IPv4 instance's VRID is no advert for it (RFC 5798 §5.2.3: one VRID space per family).
      const other = encodeAdvert({
        version: 3,
        vrid: 51,
        priority: 200,
        intervalMs: 50,
        addresses: ['2001:db8:99::50'],
        source: peer,
        destination: VRRP_GROUP6,
      });
      inject.get(true)!(encodeIp6Packet(other, peer, VRRP_GROUP6));
      expect(r.drops().vrid).toBe(1);
      expect(r.status().find((s) => s.instance === 'VI_4')?.state).toBe('MASTER');
      const v4 = encodeAdvert({
        version: 3,
        vrid: 51,
        priority: 200,
        intervalMs: 50,
        addresses: ['10.99.0.50'],
        source: '10.99.0.12',
        destination: '224.0.0.18',
      });
      inject.get(false)!(encodeIpPacket(v4, '10.99.0.12', '224.0.0.18'));
      await waitFor(() => r.status().find((s) => s.instance === 'VI_4')?.state === 'BACKUP', { what: 'the instance states' });
    } finally {
      clearInterval(feed);
    }
  });

  it('keep one VRID apart per family (RFC 5798 §5.2.3): an IPv6 master of VRID 51 moves only the IPv6 instance', async () => {
    const cfg = dualStack(51);
    const inject = new Map<boolean, (p: Buffer) => void>();
    const sent: boolean[] = [];
    const base = new MemoryLan().host('10.99.0.11');
    const r = await startVrrp({
      nodeId: 'lab.d1',
      node: cfg.node,
      config: cfg.vrrp,
      host: {
        ...base,
        openChannel: async (o, onPacket) => {
          const ipv6 = o.ipv6 === true;
          inject.set(ipv6, onPacket);
          return { ...(ipv6 ? { sourceAddress: LINK_LOCAL } : {}), send: () => sent.push(ipv6), close: async () => {} };
        },
      },
      emit: () => {},
      log: () => {},
    });
    runners.push(r);
    await waitFor(() => r.status().every((s) => s.state === 'MASTER') && sent.includes(true) && sent.includes(false), { what: 'both instances MASTER' });
    const peer = 'fe80::12';
    const advert = encodeAdvert({
      version: 3,
      vrid: 51,
      priority: 200,
      intervalMs: 50,
      addresses: ['2001:db8:99::50'],
      source: peer,
      destination: VRRP_GROUP6,
    });
    const feed = setInterval(() => inject.get(true)!(encodeIp6Packet(advert, peer, VRRP_GROUP6)), 20);
    try {
      await waitFor(() => r.status().find((s) => s.instance === 'VI_6')?.state === 'BACKUP', { what: 'VI_6 BACKUP' });
      // A few more adverts of VRID 51 over IPv6: the IPv4 instance of VRID 51 never hears them.
      await new Promise((res) => setTimeout(res, 200));
      expect(r.status().find((s) => s.instance === 'VI_4')?.state).toBe('MASTER');
      expect(r.drops().vrid).toBe(0);
    } finally {
      clearInterval(feed);
    }
  });
});
