import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderBatch } from '#shared/ipvs/codec.ts';
import type { IpvsOp } from '#shared/ipvs/model.ts';
import { tableArb } from '../ipvs/arbitraries.test-support.ts';
import { planIpvs } from '../ipvs/plan.ts';
import { MemoryIpvs } from './memory-ipvs.ts';
import { MemoryHost } from './memory-host.ts';

const reject = (setup: string, line: string, msg: RegExp) => {
  const k = new MemoryIpvs();
  if (setup) k.restore(setup);
  expect(() => k.restore(line)).toThrow(msg);
};

describe('in-memory kernel (IPVS)', () => {
  const SVC = '-A -t 10.99.0.50:80 -s rr\n';
  it('rejects what the kernel and ipvsadm reject', () => {
    reject(SVC, SVC, /Service already exists/);
    reject('', '-A -t 10.99.0.50:80 -s bogus', /Scheduler or persistence engine not found/);
    reject('', '-a -t 10.99.0.50:80 -r 10.99.1.1:80 -g -w 1', /Service not defined/);
    reject('', '-D -t 10.99.0.50:80', /No such service/);
    reject('', '-E -t 10.99.0.50:80 -s rr', /No such service/);
    reject(SVC, '-d -t 10.99.0.50:80 -r 10.99.1.1:80', /No such destination/);
    reject(SVC, '-e -t 10.99.0.50:80 -r 10.99.1.1:80 -g -w 1', /No such destination/);
    reject(SVC + '-a -t 10.99.0.50:80 -r 10.99.1.1:80 -g -w 1\n', '-a -t 10.99.0.50:80 -r 10.99.1.1:80 -g -w 1', /Destination already exists/);
    reject(SVC, '-a -t 10.99.0.50:80 -r 10.99.1.1:80 -g -w 65536', /illegal weight/);
    reject(SVC, '-a -t 10.99.0.50:80 -r 10.99.1.1:8080 -g -w 1', /port mapping is only possible with masquerading/);
    reject(SVC, '-a -t 10.99.0.50:80 -r 10.99.1.1:8080 -i -w 1', /port mapping/);
    reject('', '-A -t 10.99.0.50:0 -s rr', /Zero port specified for non-persistent service/);
  });

  it('accepts port mapping with NAT and a zero-port persistent service', () => {
    const k = new MemoryIpvs();
    k.restore('-A -t 10.99.0.50:80 -s rr\n-a -t 10.99.0.50:80 -r 10.99.1.1:8080 -m -w 1\n-A -t 10.99.0.51:0 -s rr -p 60\n');
    expect(k.snapshot()).toHaveLength(2);
    // keepalived's NAT real server without a port in an fwmark service: destination port 0.
    // ipvsadm checks no destination port of an fwmark service, whatever the forwarding method.
    k.restore('-A -f 36 -s wlc -p 300\n-a -f 36 -r 10.99.1.2:0 -m -w 1\n-a -f 36 -r 10.99.1.3:8443 -m -w 1\n-a -f 36 -r 10.99.1.4:80 -g -w 1\n');
    expect(k.save()).toContain('-a -f 36 -r 10.99.1.2:0 -m -w 1');
    expect(
      k
        .snapshot()
        .find((x) => x.fwmark === 36)!
        .dests.map((d) => d.port),
    ).toEqual([0, 8443, 80]);
  });

  it('IPv6: services and destinations as ipvsadm -Sn writes them; another family only with TUN, as ip_vs_ctl.c allows', () => {
    const V6 = '-A -t [2001:db8:6c::50]:80 -s rr\n';
    const k = new MemoryIpvs();
    k.restore(`${V6}-a -t [2001:db8:6c::50]:80 -r [2001:db8:6c::21]:80 -g -w 1\n-A -f 9 -6 -s rr\n-a -f 9 -6 -r [2001:db8:6c::22]:0 -g -w 1\n`);
    expect(k.save()).toContain('-a -t [2001:db8:6c::50]:80 -r [2001:db8:6c::21]:80 -g -w 1');
    expect(k.snapshot().map((s) => [s.address, s.family, s.dests.map((d) => d.address)])).toEqual([
      ['2001:db8:6c::50', 6, ['2001:db8:6c::21']],
      [null, 6, ['2001:db8:6c::22']],
    ]);
    reject(V6, '-a -t [2001:db8:6c::50]:80 -r 10.99.1.1:80 -g -w 1', /Different address family is allowed only for tunneling servers/);
    reject(V6, '-a -t [2001:db8:6c::50]:80 -r 10.99.1.1:8080 -m -w 1', /Different address family is allowed only for tunneling servers/);
    reject(SVC, '-a -t 10.99.0.50:80 -r [2001:db8:6c::21]:80 -g -w 1', /Different address family is allowed only for tunneling servers/);
    reject('-A -f 9 -6 -s rr\n', '-a -f 9 -6 -r 10.99.1.1:0 -g -w 1', /Different address family is allowed only for tunneling servers/);
    const tun = new MemoryIpvs();
    tun.restore(`${V6}-a -t [2001:db8:6c::50]:80 -r 10.99.1.1:80 -i -w 1\n${SVC}-a -t 10.99.0.50:80 -r [2001:db8:6c::21]:80 -i -w 1\n`);
    expect(tun.snapshot().map((s) => s.dests[0].address)).toEqual(['10.99.1.1', '2001:db8:6c::21']);
  });

  it('stops a batch at the first failing line, keeping earlier lines, like ipvsadm -R', () => {
    const k = new MemoryIpvs();
    expect(() => k.restore('-A -t 10.99.0.50:80 -s rr\n-A -t 10.99.0.50:80 -s rr\n-A -t 10.99.0.51:80 -s rr\n')).toThrow(/line 2/);
    expect(k.snapshot().map((s) => s.address)).toEqual(['10.99.0.50']);
  });

  it('applies operations as it restores their rendered batch: the same table, the same refusal naming the line', () => {
    // Operations of two tables built from empty, a subset in any order: lines that refer to
    // services not yet made, made twice, destinations of another family, and so on.
    const opsArb = fc.tuple(tableArb, tableArb).chain(([a, b]) => fc.shuffledSubarray([...planIpvs(a, [], new Set()), ...planIpvs(b, [], new Set())]));
    const outcome = (k: MemoryIpvs, run: () => void) => {
      let error: string | null = null;
      try {
        run();
      } catch (e) {
        error = (e as Error).message;
      }
      return { error, save: k.save(), batches: k.batches };
    };
    fc.assert(
      fc.property(opsArb, (ops: IpvsOp[]) => {
        const byText = new MemoryIpvs();
        const byOps = new MemoryIpvs();
        expect(outcome(byOps, () => byOps.apply(ops))).toEqual(outcome(byText, () => byText.restore(renderBatch(ops))));
      }),
      { numRuns: 300 },
    );
  });
});

describe('in-memory host', () => {
  it('rejects duplicate and missing addresses, unknown devices and unknown sysctls', async () => {
    const h = new MemoryHost();
    const vip = { ifname: 'lo', address: '10.99.0.50', prefix: 32, label: 'lo:lvs' };
    await h.addAddress(vip);
    await expect(h.addAddress(vip)).rejects.toThrow(/File exists/);
    await h.deleteAddress(vip);
    await expect(h.deleteAddress(vip)).rejects.toThrow(/Cannot assign requested address/);
    await expect(h.addAddress({ ...vip, ifname: 'tunl0' })).rejects.toThrow(/Cannot find device "tunl0"/);
    await expect(h.writeSysctl('net.ipv4.conf.tunl0.rp_filter', '0')).rejects.toThrow(/No such file/);
    await h.ensureTunnel({ ifname: 'tunl0' });
    await h.writeSysctl('net.ipv4.conf.tunl0.rp_filter', '0');
    expect(await h.readSysctl('net.ipv4.conf.tunl0.rp_filter')).toBe('0');
  });

  it('without ip_vs, IPVS reads and writes fail with IPVS_UNAVAILABLE', async () => {
    const h = new MemoryHost({ ipvs: false });
    await expect(h.ipvsRead()).rejects.toMatchObject({ code: 'IPVS_UNAVAILABLE' });
  });
});
