import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePacket, encodeAdvert, encodeIp6Packet, VRRP_GROUP6, VrrpCodecError } from './codec.ts';
import { ip6Text } from './ipv6-address.ts';

// keepalived 2.2.7's VRRPv3-over-IPv6 frames, captured on a bridge (fixtures/README.md).
const captured = JSON.parse(readFileSync(new URL('./fixtures/keepalived-v6.json', import.meta.url), 'utf8')) as { name: string; frame: string }[];
/** The IPv6 packet of a captured Ethernet frame. */
const packet = (name: string): Buffer => {
  const f = captured.find((c) => c.name === name);
  if (!f) throw new Error(`no captured frame ${name}`);
  return Buffer.from(f.frame, 'hex').subarray(14);
};
const SOURCE = 'fe80::1';
const ADVERTS = [
  { name: 'advert-51-running', vrid: 51, priority: 200, intervalMs: 1000, addresses: ['2001:db8:99::50'] },
  { name: 'advert-51-shutdown', vrid: 51, priority: 0, intervalMs: 1000, addresses: ['2001:db8:99::50'] },
  { name: 'advert-52-running', vrid: 52, priority: 100, intervalMs: 100, addresses: ['2001:db8:99::60', '2001:db8:99::61'] },
  { name: 'advert-52-shutdown', vrid: 52, priority: 0, intervalMs: 100, addresses: ['2001:db8:99::60', '2001:db8:99::61'] },
];

describe('VRRPv3 over IPv6 against keepalived packets', () => {
  it.each(ADVERTS)('encodes $name byte for byte (RFC 8200 §8.1 pseudo-header checksum, 16-byte addresses)', (a) => {
    const ip = packet(a.name);
    const vrrp = encodeAdvert({ version: 3, ...a, source: SOURCE, destination: VRRP_GROUP6 });
    expect(vrrp.toString('hex')).toBe(ip.subarray(40).toString('hex'));
    // The IPv6 header too: traffic class 0xc0, hop limit 255, next header 112 (keepalived's flow label kept).
    const flowLabel = ip.readUInt32BE(0) & 0xfffff;
    expect(encodeIp6Packet(vrrp, SOURCE, VRRP_GROUP6, 255, flowLabel).toString('hex')).toBe(ip.toString('hex'));
  });

  it.each(ADVERTS)('decodes $name', ({ name, ...a }) => {
    expect(decodePacket(packet(name))).toEqual({
      ok: true,
      advert: { version: 3, ...a, authType: 0, authData: null, source: SOURCE, destination: VRRP_GROUP6, ttl: 255 },
    });
  });

  it('drops a hop limit other than 255 (RFC 5798 §5.1.2.3)', () => {
    const p = Buffer.from(packet('advert-51-running'));
    p[7] = 254;
    expect(decodePacket(p)).toEqual({ ok: false, reason: 'ttl' });
  });

  it('the checksum covers the IPv6 pseudo-header: another source or destination fails', () => {
    for (const at of [8 + 15, 24 + 15]) {
      const p = Buffer.from(packet('advert-52-running'));
      p[at] ^= 1;
      expect(decodePacket(p)).toEqual({ ok: false, reason: 'checksum' });
    }
  });

  it('refuses VRRPv2 over IPv6, another next header and short messages', () => {
    const v2 = Buffer.from(packet('advert-51-running'));
    v2[40] = 0x21;
    expect(decodePacket(v2)).toEqual({ ok: false, reason: 'version' });
    const icmp = Buffer.from(packet('advert-51-running'));
    icmp[6] = 58;
    expect(decodePacket(icmp)).toEqual({ ok: false, reason: 'not_vrrp' });
    // Two addresses announced, one carried: 16-byte entries are what counts over IPv6.
    const short = Buffer.from(packet('advert-51-running'));
    short[43] = 2;
    expect(decodePacket(short)).toEqual({ ok: false, reason: 'length' });
    expect(decodePacket(packet('advert-51-running').subarray(0, 39))).toEqual({ ok: false, reason: 'length' });
  });

  it('refuses to encode VRRPv2 over IPv6 or a mix of families', () => {
    const a = { vrid: 1, priority: 100, source: SOURCE, destination: VRRP_GROUP6 };
    expect(() => encodeAdvert({ ...a, version: 2, intervalMs: 1000, addresses: ['2001:db8::1'] })).toThrow(VrrpCodecError);
    expect(() => encodeAdvert({ ...a, version: 3, intervalMs: 1000, addresses: ['10.0.0.1'] })).toThrow(/IPv6 addresses only/);
  });
});

describe('IPv6 decoder fuzz', () => {
  const addr6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map(ip6Text);

  it('no input crashes it, IPv6-shaped or not', () => {
    const v6ish = fc.uint8Array({ minLength: 0, maxLength: 400 }).map((b) => {
      const p = Buffer.from(b);
      if (p.length > 0) p[0] = 0x60 | (p[0] & 0x0f);
      if (p.length > 6) p[6] = 112;
      return p;
    });
    fc.assert(
      fc.property(v6ish, (bytes) => {
        const r = decodePacket(bytes);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });

  it('any single-byte change of a captured packet is refused or decodes to the same election facts', () => {
    const original = packet('advert-52-running');
    const before = decodePacket(original);
    fc.assert(
      fc.property(fc.nat(original.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const p = Buffer.from(original);
        p[at] ^= xor;
        const r = decodePacket(p);
        // Only the traffic class and flow label (bytes 0–3, the version nibble aside) and a payload
        // length above what arrived (bytes 4–5: the socket's count is trusted up to the bytes it
        // delivered) are outside every check; the rest is framing, the hop limit or under the checksum.
        if (r.ok && before.ok) {
          if (at >= 4) expect(p.readUInt16BE(4)).toBeGreaterThan(original.readUInt16BE(4));
          expect(at).toBeLessThan(6);
          expect(r.advert).toEqual(before.advert);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips any encodable IPv6 advert, truncated or padded by the socket', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 1, max: 4095 }),
        fc.array(addr6, { minLength: 1, maxLength: 20 }),
        addr6,
        fc.nat(32),
        (vrid, priority, cs, addresses, source, pad) => {
          const vrrp = encodeAdvert({ version: 3, vrid, priority, intervalMs: cs * 10, addresses, source, destination: VRRP_GROUP6 });
          const ip = Buffer.concat([encodeIp6Packet(vrrp, source, VRRP_GROUP6), Buffer.alloc(pad)]);
          expect(decodePacket(ip)).toMatchObject({ ok: true, advert: { vrid, priority, intervalMs: cs * 10, addresses, source } });
          expect(decodePacket(ip.subarray(0, ip.length - pad - 1))).toMatchObject({ ok: false });
        },
      ),
    );
  });
});
