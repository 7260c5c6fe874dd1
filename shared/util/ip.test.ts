import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CIDR4_RE,
  Cidr,
  Cidr4,
  IPV4_RE,
  IpAddress,
  Ipv4,
  Ipv6,
  canonicalIp,
  compareIp,
  formatHostPort,
  hostPrefix,
  inSubnet,
  intToIp,
  ipFamily,
  ipToInt,
  isIpv6,
  isLinkLocal,
  isMulticast,
  isValidIpv6,
  maskToPrefix,
  prefixToMask,
  splitCidr,
  splitHostPort,
} from './ip.ts';

describe('IPv4 and CIDR syntax', () => {
  it.each(['0.0.0.0', '255.255.255.255', '192.168.1.150', '10.0.0.1', '127.0.0.1'])('accepts %s', (ip) => {
    expect(IPV4_RE.test(ip)).toBe(true);
    expect(Ipv4.safeParse(ip).success).toBe(true);
  });

  it.each(['256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', '1.2.3.4/32', ' 1.2.3.4', 'a.b.c.d', '', '::1'])('refuses %j', (ip) => {
    expect(IPV4_RE.test(ip)).toBe(false);
  });

  it.each(['10.0.0.0/0', '10.0.0.1/32', '10.0.0.1', '192.168.1.150/24', '1.2.3.4/9'])('CIDR accepts %s', (c) => {
    expect(CIDR4_RE.test(c)).toBe(true);
    expect(Cidr4.safeParse(c).success).toBe(true);
  });

  it.each(['10.0.0.1/33', '10.0.0.1/-1', '10.0.0.1/', '10.0.0.1/01', '10.0.0.1/3a', '10.0.0.256/24'])('CIDR refuses %j', (c) => {
    expect(CIDR4_RE.test(c)).toBe(false);
  });
});

describe('integer conversions', () => {
  it('converts the edges', () => {
    expect(ipToInt('0.0.0.0')).toBe(0);
    expect(ipToInt('255.255.255.255')).toBe(0xffffffff);
    expect(ipToInt('192.168.1.150')).toBe(0xc0a80196);
    expect(intToIp(0)).toBe('0.0.0.0');
    expect(intToIp(0xffffffff)).toBe('255.255.255.255');
  });

  it('round-trips every 32-bit value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        expect(ipToInt(intToIp(n))).toBe(n);
      }),
    );
  });

  it('orders addresses numerically, not as text (RFC 5798 §6.4.3 tie-break)', () => {
    expect(compareIp('10.0.0.9', '10.0.0.10')).toBe(-1);
    expect(compareIp('192.168.1.1', '10.0.0.1')).toBe(1);
    expect(compareIp('255.255.255.255', '0.0.0.0')).toBe(1);
    expect(compareIp('1.2.3.4', '1.2.3.4')).toBe(0);
  });
});

describe('prefixes and masks', () => {
  it('splits a CIDR, a bare address being a /32', () => {
    expect(splitCidr('10.0.0.1/24')).toEqual({ address: '10.0.0.1', prefix: 24 });
    expect(splitCidr('10.0.0.1')).toEqual({ address: '10.0.0.1', prefix: 32 });
    expect(splitCidr('0.0.0.0/0')).toEqual({ address: '0.0.0.0', prefix: 0 });
  });

  it.each([
    [0, '0.0.0.0'],
    [1, '128.0.0.0'],
    [8, '255.0.0.0'],
    [20, '255.255.240.0'],
    [24, '255.255.255.0'],
    [31, '255.255.255.254'],
    [32, '255.255.255.255'],
  ])('/%d ⇄ %s', (prefix, mask) => {
    expect(prefixToMask(prefix)).toBe(mask);
    expect(maskToPrefix(mask)).toBe(prefix);
  });

  it.each(['255.0.255.0', '0.255.255.255', '255.255.255.253', '128.0.0.1'])('%s is not contiguous', (mask) => {
    expect(maskToPrefix(mask)).toBeNull();
  });

  it('maskToPrefix inverts prefixToMask for every prefix', () => {
    for (let p = 0; p <= 32; p++) expect(maskToPrefix(prefixToMask(p))).toBe(p);
  });
});

describe('inSubnet', () => {
  it('/0 holds everything', () => {
    expect(inSubnet('1.2.3.4', '0.0.0.0', 0)).toBe(true);
    expect(inSubnet('255.255.255.255', '10.0.0.0', 0)).toBe(true);
  });

  it('/32 holds only the address itself', () => {
    expect(inSubnet('10.0.0.1', '10.0.0.1', 32)).toBe(true);
    expect(inSubnet('10.0.0.2', '10.0.0.1', 32)).toBe(false);
  });

  it('compares the network bits only', () => {
    expect(inSubnet('172.17.1.152', '172.17.1.150', 20)).toBe(true);
    expect(inSubnet('172.17.16.1', '172.17.1.150', 20)).toBe(false);
    expect(inSubnet('10.77.0.21', '10.77.0.254', 24)).toBe(true);
    expect(inSubnet('10.77.1.21', '10.77.0.254', 24)).toBe(false);
    expect(inSubnet('127.255.0.1', '128.0.0.0', 1)).toBe(false);
    expect(inSubnet('200.0.0.1', '128.0.0.0', 1)).toBe(true);
  });

  it('agrees with integer arithmetic for random inputs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (a, b, p) => {
        const expected = p === 0 || Math.floor(a / 2 ** (32 - p)) === Math.floor(b / 2 ** (32 - p));
        expect(inSubnet(intToIp(a), intToIp(b), p)).toBe(expected);
      }),
    );
  });
});

describe('IPv6: syntax, RFC 5952 form, either family', () => {
  it.each([
    ['2001:DB8::0:10', '2001:db8::10'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0010', '2001:db8::10'],
    ['::', '::'],
    ['FE80::0001', 'fe80::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
  ])('canonicalises %s to %s', (text, canonical) => {
    expect(isIpv6(text)).toBe(true);
    expect(canonicalIp(text)).toBe(canonical);
    expect(Ipv6.parse(text)).toBe(canonical);
    expect(IpAddress.parse(text)).toBe(canonical);
  });

  it.each([
    'fe80::1%eth0',
    '::ffff:1.2.3.4',
    '::1.2.3.4',
    '::ffff:102:304',
    '1:2:3:4:5:6:7:8:9',
    ':::1',
    '2001:db8::10/64',
    '[2001:db8::10]',
    '12345::',
    'g::1',
    '',
  ])('refuses %j', (text) => {
    expect(isIpv6(text)).toBe(false);
    expect(IpAddress.safeParse(text).success).toBe(false);
  });

  it('isValidIpv6 agrees with node:net on every address the schema takes', async () => {
    const { isIPv6 } = await import('node:net');
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (text) => {
        const parsed = IpAddress.safeParse(text);
        if (parsed.success) expect(isValidIpv6(parsed.data)).toBe(isIPv6(parsed.data));
      }),
    );
  });

  it('agrees with the WHATWG URL host serialiser (RFC 5952 form) on every address', () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        fc.pre(!text.includes('.')); // embedded dotted quads are refused on purpose
        const host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
        if (host.startsWith('::ffff:')) return; // IPv4-mapped: refused
        expect(canonicalIp(text)).toBe(host);
        expect(canonicalIp(canonicalIp(text))).toBe(canonicalIp(text));
      }),
    );
  });

  it('reads families and CIDRs of both', () => {
    expect([ipFamily('10.0.0.1'), ipFamily('2001:db8::1'), ipFamily('x')]).toEqual([4, 6, null]);
    expect(Cidr.parse('2001:DB8::10/64')).toBe('2001:db8::10/64');
    expect(Cidr.parse('10.0.0.1/24')).toBe('10.0.0.1/24');
    for (const bad of ['2001:db8::10/129', '2001:db8::10/064', '10.0.0.1/33', 'fe80::1%eth0/64']) expect(Cidr.safeParse(bad).success, bad).toBe(false);
    expect(splitCidr('2001:db8::10')).toEqual({ address: '2001:db8::10', prefix: 128 });
    expect(splitCidr('2001:db8::10/64')).toEqual({ address: '2001:db8::10', prefix: 64 });
    expect([hostPrefix(4), hostPrefix(6)]).toEqual([32, 128]);
  });

  it('knows multicast addresses of both families (224.0.0.0/4, ff00::/8)', () => {
    const cases = ['224.0.0.81', '239.255.255.255', '223.255.255.255', '240.0.0.1', 'ff02::81', 'ff05::1:3', 'fe80::1', '2001:db8::81', 'x'];
    expect(cases.map(isMulticast)).toEqual([true, true, false, false, true, true, false, false, false]);
  });

  it('knows link-local addresses (fe80::/10)', () => {
    expect(['fe80::1', 'febf::1', 'fec0::1', '2001:db8::1', '169.254.0.1'].map(isLinkLocal)).toEqual([true, true, false, false, false]);
  });

  it('tests IPv6 prefixes bit by bit and never mixes families', () => {
    expect(inSubnet('2001:db8::11', '2001:db8::101', 64)).toBe(true);
    expect(inSubnet('2001:db8:0:1::11', '2001:db8::101', 64)).toBe(false);
    expect(inSubnet('2001:db8::ff', '2001:db8::80', 121)).toBe(true);
    expect(inSubnet('2001:db8::7f', '2001:db8::80', 121)).toBe(false);
    expect(inSubnet('10.0.0.1', '2001:db8::1', 0)).toBe(false);
    expect(inSubnet('::1', '2001:db8::1', 0)).toBe(true);
  });

  it('orders IPv6 addresses as 128-bit integers (RFC 5798 §6.4.3), IPv4 before IPv6', () => {
    expect(compareIp('2001:db8::2', '2001:db8::10')).toBe(-1);
    expect(compareIp('fe80::2', 'fe80::1')).toBe(1);
    expect(compareIp('2001:db8::1', '2001:db8::1')).toBe(0);
    expect(compareIp('255.255.255.255', '::')).toBe(-1);
  });

  it('prints endpoints with IPv6 in brackets and reads them back', () => {
    expect(formatHostPort('2001:db8::10', 80)).toBe('[2001:db8::10]:80');
    expect(formatHostPort('192.168.1.150', 80)).toBe('192.168.1.150:80');
    expect(splitHostPort('[2001:db8::10]:80')).toEqual({ address: '2001:db8::10', port: '80' });
    expect(splitHostPort('192.168.1.150:80')).toEqual({ address: '192.168.1.150', port: '80' });
    expect(splitHostPort('2001:db8::10:80')).toBeNull();
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 0, max: 65535 }), (address, port) => {
        expect(splitHostPort(formatHostPort(address, port))).toEqual({ address, port: String(port) });
      }),
    );
  });
});
