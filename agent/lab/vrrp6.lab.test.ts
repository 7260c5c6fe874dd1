import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { destroyAllLabs, netnsUnavailable } from './netns.ts';
import { ALL_PAIRS, runFailover } from './scenario.ts';

const skip = netnsUnavailable(['keepalived', 'ping', 'python3']);
if (skip) console.log(`netns IPv6 VRRP lab skipped: ${skip}`);

const pairs = ALL_PAIRS;

afterAll(destroyAllLabs);

describe.skipIf(!!skip)('VRRPv3 over IPv6 in network namespaces (client pings the IPv6 VIP every 10 ms)', () => {
  for (const [d1, d2] of pairs)
    for (const kind of ['crash', 'graceful'] as const)
      it(`100 ms adverts: master ${d1} → backup ${d2}, ${kind}`, async () => {
        const r = await runFailover({ d1, d2, version: 3, advertMs: 100, kind, ipv6: true, lab: { prefix: `v6b${randomBytes(3).toString('hex')}` } });
        console.log(`IPv6 VRRPv3 100 ms ${d1}→${d2} ${kind}: longest gap ${r.gapMs} ms (bound ${r.boundMs} ms)`);
        // Within the bound the client kept reaching the VIP: the new master's unsolicited Neighbor
        // Advertisements moved it (a stale neighbour entry would take seconds of NUD probing).
        expect(r.gapMs).toBeLessThanOrEqual(r.boundMs);
        expect(r.gapMs).toBeGreaterThan(15);
        if (kind === 'graceful') expect(r.stoppedHoldsVip).toBe(false);
      });
});
