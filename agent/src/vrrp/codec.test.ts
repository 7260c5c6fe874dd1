import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkAdvert, decodePacket, encodeAdvert, encodeIpPacket, VrrpCodecError } from './codec.ts';

// keepalived 2.2.7's own packets, captured on the bridge (LABS.md "Reference packets").
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const V2_IP = hex('45c0 0028 0007 0000 ff70 d01e 0a63000b e0000012');
const V2 = hex('2133 6401 0101 0cd3 0a630032 3131313100000000');
const V2_PRIO0 = hex('2133 0001 0101 70d3 0a630032 3131313100000000');
const V3_IP = hex('45c0 0020 0040 0000 ff70 cfed 0a63000b e0000012');
const V3 = hex('3133 6401 000a 752f 0a630032');
const base = { vrid: 51, addresses: ['10.99.0.50'], source: '10.99.0.11', destination: '224.0.0.18' };

describe('VRRP codec against keepalived packets', () => {
  it('encodes VRRPv2 PASS byte for byte, priority 100 and 0', () => {
    expect(encodeAdvert({ ...base, version: 2, priority: 100, intervalMs: 1000, password: '1111' })).toEqual(V2);
    expect(encodeAdvert({ ...base, version: 2, priority: 0, intervalMs: 1000, password: '1111' })).toEqual(V2_PRIO0);
  });
  it('encodes VRRPv3 with the pseudo-header checksum byte for byte', () => {
    expect(encodeAdvert({ ...base, version: 3, priority: 100, intervalMs: 100 })).toEqual(V3);
  });
  it('rebuilds the IP headers keepalived sent', () => {
    expect(encodeIpPacket(V2, '10.99.0.11', '224.0.0.18', 7)).toEqual(Buffer.concat([V2_IP, V2]));
    expect(encodeIpPacket(V3, '10.99.0.11', '224.0.0.18', 0x40)).toEqual(Buffer.concat([V3_IP, V3]));
  });
  it('decodes the v2 packet', () => {
    const r = decodePacket(Buffer.concat([V2_IP, V2]));
    expect(r).toMatchObject({
      ok: true,
      advert: {
        version: 2,
        vrid: 51,
        priority: 100,
        intervalMs: 1000,
        addresses: ['10.99.0.50'],
        authType: 1,
        source: '10.99.0.11',
        destination: '224.0.0.18',
        ttl: 255,
      },
    });
    if (r.ok) expect(checkAdvert(r.advert, { version: 2, intervalMs: 1000, password: '1111' })).toBeNull();
  });
  it('decodes the v2 priority-0 packet', () => {
    expect(decodePacket(Buffer.concat([V2_IP, V2_PRIO0]))).toMatchObject({ ok: true, advert: { priority: 0 } });
  });
  it('decodes the v3 packet with its centisecond interval', () => {
    const r = decodePacket(Buffer.concat([V3_IP, V3]));
    expect(r).toMatchObject({ ok: true, advert: { version: 3, vrid: 51, priority: 100, intervalMs: 100, addresses: ['10.99.0.50'] } });
    if (r.ok) expect(checkAdvert(r.advert, { version: 3, intervalMs: 30, password: null })).toBeNull(); // v3 learns the interval
  });
});

describe('drop reasons', () => {
  const v2 = () => Buffer.concat([V2_IP, V2]);
  it('TTL ≠ 255', () => {
    const p = v2();
    p[8] = 64;
    expect(decodePacket(p)).toEqual({ ok: false, reason: 'ttl' });
  });
  it('bad checksum', () => {
    const p = v2();
    p[20 + 2] = 99; // priority changed, checksum not
    expect(decodePacket(p)).toEqual({ ok: false, reason: 'checksum' });
  });
  it('v3 checksum covers the pseudo-header (a different source fails)', () => {
    const p = Buffer.concat([V3_IP, V3]);
    p.writeUInt32BE(0x0a63000c, 12);
    expect(decodePacket(p)).toEqual({ ok: false, reason: 'checksum' });
  });
  it('wrong version', () => {
    const p = v2();
    p[20] = 0x41;
    expect(decodePacket(p)).toEqual({ ok: false, reason: 'version' });
    const ok = decodePacket(v2());
    if (ok.ok) expect(checkAdvert(ok.advert, { version: 3, intervalMs: 1000, password: null })).toBe('version');
  });
  it('malformed length', () => {
    expect(decodePacket(v2().subarray(0, 30))).toEqual({ ok: false, reason: 'length' });
    const p = v2();
    p[20 + 3] = 5; // claims 5 addresses
    expect(decodePacket(p)).toEqual({ ok: false, reason: 'length' });
  });
  it('wrong auth, AH refused, v2 interval mismatch', () => {
    const r = decodePacket(v2());
    if (!r.ok) throw new Error('golden packet must decode');
    expect(checkAdvert(r.advert, { version: 2, intervalMs: 1000, password: '2222' })).toBe('auth');
    expect(checkAdvert(r.advert, { version: 2, intervalMs: 1000, password: null })).toBe('auth');
    expect(checkAdvert({ ...r.advert, authType: 2 }, { version: 2, intervalMs: 1000, password: '1111' })).toBe('auth_ah');
    expect(checkAdvert(r.advert, { version: 2, intervalMs: 2000, password: '1111' })).toBe('interval');
  });
  it('not VRRP', () => {
    const p = v2();
    p[9] = 6;
    expect(decodePacket(p)).toEqual({ ok: false, reason: 'not_vrrp' });
  });
  it('VRRPv2 adverts without addresses (keepalived instance without VIPs) encode and decode; v3 needs one', () => {
    const none = encodeAdvert({ ...base, addresses: [], version: 2, priority: 100, intervalMs: 1000, password: '1111' });
    expect(none.length).toBe(16); // 8 header bytes + 8 auth bytes (RFC 3768 §5.1)
    expect(none[3]).toBe(0);
    const r = decodePacket(encodeIpPacket(none, '10.99.0.11', '224.0.0.18'));
    expect(r).toMatchObject({ ok: true, advert: { version: 2, addresses: [], authType: 1 } });
    if (r.ok) expect(checkAdvert(r.advert, { version: 2, intervalMs: 1000, password: '1111' })).toBeNull();
    expect(() => encodeAdvert({ ...base, addresses: [], version: 3, priority: 100, intervalMs: 100 })).toThrow(/1-255 addresses/);
    const v3 = Buffer.from(V3.subarray(0, 8));
    v3[3] = 0;
    expect(decodePacket(encodeIpPacket(v3, '10.99.0.11', '224.0.0.18'))).toEqual({ ok: false, reason: 'length' });
  });
  it('refuses to encode what the wire cannot carry', () => {
    expect(() => encodeAdvert({ ...base, version: 2, priority: 100, intervalMs: 1500 })).toThrow(VrrpCodecError);
    expect(() => encodeAdvert({ ...base, version: 3, priority: 100, intervalMs: 15 })).toThrow(/steps of 10/);
    expect(() => encodeAdvert({ ...base, version: 2, priority: 100, intervalMs: 1000, password: '123456789' })).toThrow(/8 bytes/);
  });
});

describe('fuzz', () => {
  it('no input crashes the decoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        const r = decodePacket(bytes);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 5000 },
    );
  });
  it('mutated valid packets never crash and re-checksum correctly', () => {
    fc.assert(
      fc.property(fc.nat(39), fc.integer({ min: 0, max: 255 }), fc.nat(60), (at, val, cut) => {
        const p = Buffer.concat([V2_IP, V2]);
        p[at] = val;
        decodePacket(p.subarray(0, Math.max(0, p.length - cut)));
      }),
      { numRuns: 5000 },
    );
  });
  it('round-trips any encodable advert', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 20 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 255 }),
        (vrid, priority, ips, v3, k) => {
          const addresses = ips.map((n) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.'));
          const input = {
            vrid,
            priority,
            addresses,
            source: '10.1.2.3',
            destination: '224.0.0.18',
            version: (v3 ? 3 : 2) as 2 | 3,
            intervalMs: v3 ? k * 10 : k * 1000,
            password: v3 ? null : 'pw',
          };
          const r = decodePacket(encodeIpPacket(encodeAdvert(input), input.source, input.destination));
          expect(r).toMatchObject({ ok: true, advert: { vrid, priority, addresses, intervalMs: input.intervalMs, version: input.version } });
        },
      ),
    );
  });
});
