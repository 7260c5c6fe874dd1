import { afterAll, describe, expect, it } from 'vitest';
import { destroyAllLabs, netnsUnavailable } from './netns.ts';
import { runFailover, type FailoverCase } from './scenario.ts';

const skip = netnsUnavailable(['keepalived', 'ping', 'arping']);
if (skip) console.log(`netns VRRP failover lab skipped: ${skip}`);

const pairs: [FailoverCase['d1'], FailoverCase['d2']][] = [
  ['ours', 'ours'],
  ['ours', 'keepalived'],
  ['keepalived', 'ours'],
];
const timers = [
  { version: 2 as const, advertMs: 1000, label: 'VRRPv2 PASS 1 s' },
  { version: 3 as const, advertMs: 100, label: 'VRRPv3 100 ms' },
];

afterAll(destroyAllLabs);

describe.skipIf(!!skip)('VRRP failover in network namespaces (client pings the VIP every 10 ms)', () => {
  for (const [d1, d2] of pairs)
    for (const t of timers)
      for (const kind of ['crash', 'graceful'] as const)
        it(`${t.label}: master ${d1} → backup ${d2}, ${kind}`, async () => {
          const r = await runFailover({ d1, d2, version: t.version, advertMs: t.advertMs, kind });
          console.log(`${t.label} ${d1}→${d2} ${kind}: longest gap ${r.gapMs} ms (bound ${r.boundMs} ms)`);
          expect(r.gapMs).toBeLessThanOrEqual(r.boundMs);
          // A failover did happen: the client saw an outage longer than its ping interval.
          expect(r.gapMs).toBeGreaterThan(15);
        });
});
