import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeUnsolicitedNa } from './neighbor-advert.ts';

// keepalived 2.2.7's unsolicited Neighbor Advertisements for its IPv6 VIPs (fixtures/README.md).
const captured = JSON.parse(readFileSync(new URL('./fixtures/keepalived-v6.json', import.meta.url), 'utf8')) as { name: string; frame: string }[];
const MAC = '02:00:5e:10:00:01';

describe('unsolicited Neighbor Advertisement (RFC 4861 §7.2.6)', () => {
  it.each([
    ['na-0050', '2001:db8:99::50'],
    ['na-0060', '2001:db8:99::60'],
    ['na-0061', '2001:db8:99::61'],
  ])('reproduces keepalived frame %s byte for byte', (name, vip) => {
    const f = captured.find((c) => c.name === name)!;
    expect(encodeUnsolicitedNa(vip, MAC).toString('hex')).toBe(f.frame);
  });

  it('carries the Override flag, hop limit 255 and the target link-layer address', () => {
    const f = encodeUnsolicitedNa('2001:db8::7', 'aa:bb:cc:dd:ee:ff');
    expect(f.subarray(0, 6).toString('hex')).toBe('333300000001');
    expect(f[14 + 7]).toBe(255);
    expect(f[54]).toBe(136);
    expect(f[58]).toBe(0x20);
    expect(f.subarray(78, 80).toString('hex')).toBe('0201');
    expect(f.subarray(80, 86).toString('hex')).toBe('aabbccddeeff');
  });

  it.each([
    ['na-router-0050', '2001:db8:99::50'],
    ['na-router-0060', '2001:db8:99::60'],
    ['na-router-0061', '2001:db8:99::61'],
  ])('sets Router as keepalived does on a forwarding interface: frame %s byte for byte', (name, vip) => {
    const f = captured.find((c) => c.name === name)!;
    expect(encodeUnsolicitedNa(vip, MAC, { router: true }).toString('hex')).toBe(f.frame);
  });

  it('refuses what is not a MAC or an IPv6 address', () => {
    expect(() => encodeUnsolicitedNa('2001:db8::7', 'aa:bb:cc')).toThrow(/MAC/);
    expect(() => encodeUnsolicitedNa('10.0.0.1', 'aa:bb:cc:dd:ee:ff')).toThrow();
  });
});
