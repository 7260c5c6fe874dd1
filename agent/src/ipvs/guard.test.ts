import { describe, expect, it } from 'vitest';
import type { IpvsServiceState, IpvsTable } from '#shared/ipvs/model.ts';
import { realServerKey, serviceKey } from '#shared/ipvs/model.ts';
import { checkMassDelete } from './guard.ts';

const service = (port: number, dests: number): IpvsServiceState => ({
  protocol: 'tcp',
  address: '10.0.0.1',
  port,
  fwmark: 0,
  scheduler: 'wrr',
  flags: [],
  persistence: null,
  onePacket: false,
  dests: Array.from({ length: dests }, (_, i) => ({
    address: `192.168.0.${i + 1}`,
    port,
    forwarding: 'dr' as const,
    weight: 1,
    upperThreshold: 0,
    lowerThreshold: 0,
  })),
});
const ownedOf = (t: IpvsTable) => new Set(t.map(serviceKey));
const configuredOf = (t: IpvsTable) => new Set(t.flatMap((s) => s.dests.map((d) => realServerKey(serviceKey(s), d))));

describe('checkMassDelete', () => {
  const actual = Array.from({ length: 9 }, (_, i) => service(8000 + i, 2));

  it('lets through removing half or fewer, the only service (one is not a mass delete), or anything with allowMassDelete', () => {
    const half = actual.slice(0, 5);
    expect(() => checkMassDelete(half, actual, ownedOf(actual), false, configuredOf(half))).not.toThrow();
    const one = [service(8000, 2)];
    expect(() => checkMassDelete([], one, ownedOf(one), false, new Set())).not.toThrow();
    expect(() => checkMassDelete([], actual, ownedOf(actual), true, new Set())).not.toThrow();
  });

  it('refuses removing most services, naming the first five and counting the rest, and says how to allow it', () => {
    const kept = actual.slice(0, 1);
    let message = '';
    try {
      checkMassDelete(kept, actual, ownedOf(actual), false, configuredOf(kept));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(
      'refusing to remove 8 of 9 services (tcp:10.0.0.1:8001, tcp:10.0.0.1:8002, tcp:10.0.0.1:8003, tcp:10.0.0.1:8004, tcp:10.0.0.1:8005 and 3 more); set spec.allowMassDelete or apply with force to allow it',
    );
  });

  it("refuses taking most of a kept service's real servers, and leaves alone a service it does not own", () => {
    const big = [service(80, 4)];
    const kept = [service(80, 1)];
    expect(() => checkMassDelete(kept, big, ownedOf(big), false, configuredOf(kept))).toThrow(/^refusing to remove 3 of 4 real servers \(/);
    expect(() => checkMassDelete(kept, big, new Set(), false, configuredOf(kept))).not.toThrow();
  });
});
