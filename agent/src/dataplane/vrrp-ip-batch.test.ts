import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IpBatch } from './vrrp-ip-batch.ts';

const noIp = !['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].some(existsSync);
if (noIp) console.log('ip batch test skipped: no iproute2');

describe.skipIf(noIp)('IpBatch', () => {
  it('maps each failure to its own command and keeps going', async () => {
    const b = new IpBatch();
    try {
      const [a, c] = await Promise.all([
        b.run(['addr', 'del', '10.250.250.250/32', 'dev', 'lo']),
        b.run(['addr', 'del', '10.250.250.251/32', 'dev', 'lo']),
      ]);
      // Absent address, or no permission when not root: either way one error each.
      expect(a).toHaveLength(1);
      expect(c).toHaveLength(1);
      expect(await b.run(['addr', 'del', 'bad arg'])).toEqual([expect.stringMatching(/unsafe/)]);
      // Success, failure and success interleaved, many in flight: each result is its own.
      const mixed = await Promise.all(
        Array.from({ length: 60 }, (_, i) => (i % 2 ? b.run(['addr', 'del', `10.250.251.${i}/32`, 'dev', 'lo']) : b.run(['link', 'show', 'dev', 'lo']))),
      );
      mixed.forEach((errors, i) => expect(errors).toHaveLength(i % 2));
      expect(mixed[1][0]).not.toContain('lvsf-no-such0');
    } finally {
      b.close();
    }
  });
});
