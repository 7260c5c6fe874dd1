import fc from 'fast-check';
import type { IpvsDest, IpvsServiceState, IpvsTable } from '#shared/ipvs/model.ts';
import { destKey, serviceKey } from '#shared/ipvs/model.ts';

/** Random but kernel-valid IPVS tables drawn from small pools, so desired and actual overlap. */
const vip = fc.constantFrom('10.99.0.50', '10.99.0.51', '10.99.0.52');
const rip = fc.constantFrom('10.99.1.1', '10.99.1.2', '10.99.1.3', '10.99.1.4');
const proto = fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const);
const sched = fc.constantFrom('rr', 'wrr', 'wlc', 'sh', 'mh', 'lc');

const serviceArb = fc
  .record({
    fw: fc.boolean(),
    fwmark: fc.integer({ min: 1, max: 3 }),
    protocol: proto,
    address: vip,
    port: fc.constantFrom(80, 443, 53),
    scheduler: sched,
    persist: fc.option(fc.record({ timeoutS: fc.integer({ min: 1, max: 600 }), netmask: fc.constantFrom('255.255.255.255', '255.255.255.0') }), { nil: null }),
    onePacket: fc.boolean(),
    flags: fc.subarray(['sh-fallback', 'sh-port']),
    dests: fc.array(
      fc.record({
        address: rip,
        fwd: fc.constantFrom('dr' as const, 'nat' as const, 'tun' as const),
        nport: fc.constantFrom(80, 8080),
        weight: fc.integer({ min: 0, max: 65535 }),
        x: fc.integer({ min: 0, max: 100 }),
        y: fc.integer({ min: 0, max: 100 }),
      }),
      { maxLength: 4 },
    ),
  })
  .map((r): IpvsServiceState => {
    const port = r.fw ? 0 : r.port;
    const dests: IpvsDest[] = r.dests.map((d) => ({
      address: d.address,
      port: d.fwd === 'nat' ? d.nport : port,
      forwarding: d.fwd,
      weight: d.weight,
      upperThreshold: Math.max(d.x, d.y),
      lowerThreshold: Math.min(d.x, d.y),
    }));
    return {
      protocol: r.fw ? 'tcp' : r.protocol,
      address: r.fw ? null : r.address,
      port,
      fwmark: r.fw ? r.fwmark : 0,
      scheduler: r.scheduler,
      flags: r.scheduler === 'sh' ? [...r.flags].sort() : [],
      persistence: r.persist,
      onePacket: r.onePacket,
      dests: [...new Map(dests.map((d) => [destKey(d), d])).values()],
    };
  });

export const tableArb: fc.Arbitrary<IpvsTable> = fc.array(serviceArb, { maxLength: 6 }).map((ss) => [...new Map(ss.map((s) => [serviceKey(s), s])).values()]);

/** Order-insensitive form of a table, for comparisons. */
export function normalize(t: IpvsTable): IpvsTable {
  return [...t]
    .map((s) => ({ ...s, dests: [...s.dests].sort((a, b) => destKey(a).localeCompare(destKey(b))) }))
    .sort((a, b) => serviceKey(a).localeCompare(serviceKey(b)));
}
