import { afterEach, describe, expect, it } from 'vitest';
import { compileNode } from '#shared/compiler/compile.ts';
import { validateSite } from '#shared/site/validate.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import type { VrrpChannelOptions } from '../dataplane/vrrp-host.ts';
import { encodeAdvert, encodeIp6Packet } from './codec.ts';
import { startVrrp, type VrrpRunner } from './driver.ts';
import { MemoryLan } from './sim/memory-lan.ts';

// d1 (priority 100) and d2 in one IPv6 VRRPv3 instance with unicast peers, plus an extra peer
// 2001:db8:99::99 that is no lvsfleet node (a keepalived being migrated).
function unicast6() {
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
      vrrp: [
        {
          name: 'VI_6',
          vrid: 61,
          advertInterval: '50ms',
          vips: ['2001:db8:99::50/64'],
          unicast: true,
          unicastPeers: ['2001:DB8:99:0::99'],
          members: [
            { node: 'd1', priority: 100, initialState: 'MASTER' },
            { node: 'd2', priority: 90 },
          ],
          garp: { masterDelay: '0s' },
        },
      ],
    },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return compileNode(r.site, 'd1');
}

const runners: VrrpRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

/** d1's runner on a channel the test feeds; what it sent and the options it opened with. */
async function start() {
  const cfg = unicast6();
  const opened: VrrpChannelOptions[] = [];
  const sent: string[] = [];
  let inject: (p: Buffer) => void = () => {};
  const r = await startVrrp({
    nodeId: 'lab.d1',
    node: cfg.node,
    config: cfg.vrrp,
    host: {
      ...new MemoryLan().host('10.99.0.11'),
      openChannel: async (o, onPacket) => {
        opened.push(o);
        inject = onPacket;
        // A unicast-only channel sends from the member's own address (vrrp-linux-socket6.ts).
        return { sourceAddress: o.sourceAddress, send: (_vrrp, destination) => sent.push(destination), close: async () => {} };
      },
    },
    emit: () => {},
    log: () => {},
  });
  runners.push(r);
  await waitFor(() => r.status()[0].state === 'MASTER', { what: 'd1 MASTER' });
  return {
    r,
    opened,
    sent,
    feed: (source: string, hopLimit: number) => {
      const advert = encodeAdvert({
        version: 3,
        vrid: 61,
        priority: 200,
        intervalMs: 50,
        addresses: ['2001:db8:99::50'],
        source,
        destination: '2001:db8:99::11',
      });
      inject(encodeIp6Packet(advert, source, '2001:db8:99::11', hopLimit));
    },
  };
}

describe('VRRPv3 over IPv6 with unicast peers', () => {
  it('opens a unicast-only channel from the node address6 and sends to every peer, not to ff02::12', async () => {
    const { opened, sent } = await start();
    expect(opened).toEqual([{ interface: 'eth0', sourceAddress: '2001:db8:99::11', multicast: false, ipv6: true }]);
    await waitFor(() => sent.length >= 4, { what: 'adverts' });
    expect(new Set(sent)).toEqual(new Set(['2001:db8:99::12', '2001:db8:99::99']));
  });

  it("takes a listed peer's advert at hop limit 64 (keepalived's unicast IPv6 adverts)", async () => {
    const { r, feed } = await start();
    const t = setInterval(() => feed('2001:db8:99::99', 64), 20);
    try {
      await waitFor(() => r.status()[0].state === 'BACKUP', { what: 'd1 BACKUP under a priority-200 peer' });
    } finally {
      clearInterval(t);
    }
    expect(r.drops().ttl).toBe(0);
    expect(r.drops().peer).toBe(0);
  });

  it('drops adverts from an address that is no peer, at any hop limit, and stays MASTER', async () => {
    const { r, feed } = await start();
    for (let i = 0; i < 10; i++) {
      feed('2001:db8:99::77', 255);
      feed('2001:db8:99::78', 64);
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(r.status()[0].state).toBe('MASTER');
    expect(r.drops().peer).toBe(10);
    // Not a peer and not hop limit 255: the TTL rule of RFC 5798 §7.1 still applies to it.
    expect(r.drops().ttl).toBe(10);
  });
});
