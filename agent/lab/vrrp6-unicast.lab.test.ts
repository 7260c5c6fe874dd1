import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { destroyAllLabs, netnsUnavailable } from './netns.ts';
import { ALL_PAIRS, runFailover } from './scenario.ts';

const skip = netnsUnavailable(['keepalived', 'ping', 'python3']);
if (skip) console.log(`netns IPv6 unicast VRRP lab skipped: ${skip}`);

const pairs = ALL_PAIRS;

afterAll(destroyAllLabs);

// Nobody in these namespaces joins ff02::12, so a multicast advert would reach no one: the backup
// staying BACKUP until the crash, and taking over within the bound, is the unicast path working.
describe.skipIf(!!skip)('VRRPv3 over IPv6 with unicast peers (keepalived unicast_peer), client pings the VIP every 10 ms', () => {
  for (const [d1, d2] of pairs)
    for (const kind of ['crash', 'graceful'] as const)
      it(`100 ms adverts: master ${d1} → backup ${d2}, ${kind}`, async () => {
        const r = await runFailover({
          d1,
          d2,
          version: 3,
          advertMs: 100,
          kind,
          ipv6: true,
          unicast: true,
          lab: { prefix: `v6k${randomBytes(3).toString('hex')}` },
        });
        console.log(`IPv6 unicast VRRPv3 100 ms ${d1}→${d2} ${kind}: longest gap ${r.gapMs} ms (bound ${r.boundMs} ms)`);
        expect(r.gapMs).toBeLessThanOrEqual(r.boundMs);
        expect(r.gapMs).toBeGreaterThan(15);
        if (kind === 'graceful') expect(r.stoppedHoldsVip).toBe(false);
      });
});
