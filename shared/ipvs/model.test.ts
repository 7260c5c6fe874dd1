import fc from 'fast-check';
import { describe, it } from 'vitest';
import { sameServiceKey, serviceKey, type IpvsService } from './model.ts';

describe('sameServiceKey', () => {
  it('is serviceKey equality, for fwmark and address services of either family', () => {
    const service = fc.record({
      protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const),
      address: fc.constantFrom(null, '10.0.0.1', '10.0.0.2', '2001:db8::1'),
      port: fc.constantFrom(0, 80, 443),
      fwmark: fc.constantFrom(0, 1, 2),
      family: fc.constantFrom(undefined, 6 as const),
    }) as fc.Arbitrary<Pick<IpvsService, 'protocol' | 'address' | 'port' | 'fwmark' | 'family'>>;
    fc.assert(
      fc.property(service, service, (a, b) => sameServiceKey(a, b) === (serviceKey(a) === serviceKey(b))),
      { numRuns: 2000 },
    );
  });
});
