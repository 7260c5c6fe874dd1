import { describe, expect, it } from 'vitest';
import { createDryRunDataplane } from './dry-run.ts';

describe('dry-run dataplane', () => {
  it('prints each command once and later reads see the simulated result', async () => {
    const out: string[] = [];
    const dp = createDryRunDataplane((l) => out.push(l));
    const vip = { ifname: 'lo', address: '10.99.0.50', prefix: 32, label: 'lo:lvs' };
    await dp.addAddress(vip);
    await dp.ensureTunnel({ ifname: 'tunl0' });
    await dp.ensureTunnel({ ifname: 'tunl0' });
    await dp.writeSysctl('net.ipv4.conf.tunl0.rp_filter', '0');
    const service = { protocol: 'tcp' as const, address: '10.99.0.50', port: 80, fwmark: 0, scheduler: 'rr', flags: [], persistence: null, onePacket: false };
    const dest = { address: '10.99.1.1', port: 80, forwarding: 'dr' as const, weight: 1, upperThreshold: 0, lowerThreshold: 0 };
    await dp.ipvsApply([
      { op: 'add-service', service },
      { op: 'add-dest', service, dest },
    ]);
    await dp.ipvsApply([]);
    expect(out).toEqual([
      'dry-run: ip addr add 10.99.0.50/32 dev lo label lo:lvs',
      'dry-run: ip link set tunl0 up',
      'dry-run: sysctl -w net.ipv4.conf.tunl0.rp_filter=0',
      'dry-run: ipvsadm -R <<EOF\n-A -t 10.99.0.50:80 -s rr\n-a -t 10.99.0.50:80 -r 10.99.1.1:80 -g -w 1\nEOF',
    ]);
    expect(await dp.listAddresses()).toEqual([vip]);
    expect((await dp.ipvsRead()).table).toEqual([{ ...service, dests: [dest] }]);
  });

  it('the IPv6 TUN device: created for its local address once, changed when the address moves', async () => {
    const out: string[] = [];
    const dp = createDryRunDataplane((l) => out.push(l));
    await dp.ensureTunnel({ ifname: 'lvs6tnl0', local: '2001:db8:6c::21' });
    await dp.ensureTunnel({ ifname: 'lvs6tnl0', local: '2001:db8:6c::21' });
    await dp.ensureTunnel({ ifname: 'lvs6tnl0', local: '2001:db8:6c::22' });
    expect(out).toEqual([
      'dry-run: ip link add name lvs6tnl0 type ip6tnl mode ip6ip6 local 2001:db8:6c::21 remote any allow-localremote',
      'dry-run: ip link set lvs6tnl0 up',
      'dry-run: ip link set dev lvs6tnl0 type ip6tnl mode ip6ip6 local 2001:db8:6c::22 remote any allow-localremote',
    ]);
  });

  it('prints nothing for a change the simulated host refuses, as Linux would', async () => {
    const out: string[] = [];
    const dp = createDryRunDataplane((l) => out.push(l));
    await expect(dp.deleteAddress({ ifname: 'lo', address: '10.99.0.50', prefix: 32, label: null })).rejects.toThrow(/Cannot assign requested address/);
    await expect(dp.writeSysctl('net.ipv4.conf.nope.rp_filter', '0')).rejects.toThrow(/No such file/);
    expect(out).toEqual([]);
  });
});
