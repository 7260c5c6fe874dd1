import { describe, expect, it } from 'vitest';
import { linkLocalOf } from './vrrp-linux-socket6.ts';

// /proc/net/if_inet6 as Linux writes it: address, index, prefix length, scope, flags, name.
const IF_INET6 = `00000000000000000000000000000001 01 80 10 80       lo
20010db8009900910000000000000011 02 40 00 80     eth0
fe800000000000000000000000000009 03 40 20 c0     eth1
fe80000000000000bc09d2fffe1a584b 02 40 20 80     eth0
fe800000000000000000000000000007 04 40 20 80   eth0.5
`;

describe('link-local source of an IPv6 VRRP channel (RFC 5798 §5.1.2.1)', () => {
  it("finds the interface's link-local address, not its global one or another interface's", () => {
    expect(linkLocalOf(IF_INET6, 'eth0')).toBe('fe80::bc09:d2ff:fe1a:584b');
    expect(linkLocalOf(IF_INET6, 'eth0.5')).toBe('fe80::7');
  });
  it('skips a tentative address and answers null when there is none', () => {
    expect(linkLocalOf(IF_INET6, 'eth1')).toBeNull();
    expect(linkLocalOf(IF_INET6, 'lo')).toBeNull();
    expect(linkLocalOf('garbage\n', 'eth0')).toBeNull();
  });
});
