import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BFD_STATES, BfdCodecError, decodeControl, encodeControl, REJECT_REASONS, type ControlPacket } from './codec.ts';

// keepalived 2.2.7's own packets, captured in the netns lab (fixtures/README.md).
const fixtures = new Map(
  readFileSync(new URL('./fixtures/keepalived-2.2.7.txt', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => {
      const [name, hex] = l.trim().split(/\s+/);
      return [name, Buffer.from(hex, 'hex')] as const;
    }),
);
const pkt = (name: string) => {
  const b = fixtures.get(name);
  if (!b) throw new Error(`no fixture ${name}`);
  return Buffer.from(b);
};

const A = 0xc32e704b;
const B = 0x7a7b88fb;
const base: ControlPacket = {
  diag: 0,
  state: 'Down',
  poll: false,
  final: false,
  cpi: false,
  auth: false,
  demand: false,
  multipoint: false,
  detectMult: 5,
  myDiscriminator: A,
  yourDiscriminator: 0,
  desiredMinTxUs: 1_000_000,
  requiredMinRxUs: 10_000,
  requiredMinEchoRxUs: 0,
};

describe('BFD codec against keepalived packets', () => {
  it('decodes every captured packet field by field', () => {
    expect(decodeControl(pkt('down-a'))).toEqual({ ok: true, packet: base });
    expect(decodeControl(pkt('init-a'))).toEqual({ ok: true, packet: { ...base, state: 'Init', yourDiscriminator: B } });
    expect(decodeControl(pkt('up-poll-b'))).toEqual({
      ok: true,
      packet: { ...base, state: 'Up', poll: true, myDiscriminator: B, yourDiscriminator: A, desiredMinTxUs: 10_000 },
    });
    expect(decodeControl(pkt('up-final-a'))).toEqual({ ok: true, packet: { ...base, state: 'Up', final: true, yourDiscriminator: B, desiredMinTxUs: 10_000 } });
    expect(decodeControl(pkt('up-a'))).toEqual({ ok: true, packet: { ...base, state: 'Up', yourDiscriminator: B, desiredMinTxUs: 10_000 } });
    expect(decodeControl(pkt('down-expired-a'))).toEqual({ ok: true, packet: { ...base, diag: 1, myDiscriminator: 0x2a768306 } });
  });
  it('re-encodes every captured packet byte for byte', () => {
    expect(fixtures.size).toBeGreaterThanOrEqual(8);
    for (const [name, bytes] of fixtures) {
      const r = decodeControl(bytes);
      if (!r.ok) throw new Error(`${name}: ${r.reason}`);
      expect(encodeControl(r.packet), name).toEqual(bytes);
    }
  });
});

describe('BFD codec reception checks (RFC 5880 §6.8.6)', () => {
  const mutate = (name: string, f: (b: Buffer) => void) => {
    const b = pkt(name);
    f(b);
    return decodeControl(b);
  };
  it('rejects each malformed packet with its reason', () => {
    expect(decodeControl(pkt('up-a').subarray(0, 23))).toEqual({ ok: false, reason: 'short' });
    expect(mutate('up-a', (b) => (b[0] = (2 << 5) | (b[0] & 0x1f)))).toEqual({ ok: false, reason: 'version' });
    expect(mutate('up-a', (b) => (b[0] = b[0] & 0x1f))).toEqual({ ok: false, reason: 'version' });
    expect(mutate('up-a', (b) => (b[3] = 23))).toEqual({ ok: false, reason: 'length' });
    expect(mutate('up-a', (b) => (b[3] = 25))).toEqual({ ok: false, reason: 'length' });
    // A set needs at least 26 bytes of Length.
    expect(mutate('up-a', (b) => (b[1] |= 0x04))).toEqual({ ok: false, reason: 'length' });
    expect(mutate('up-a', (b) => (b[2] = 0))).toEqual({ ok: false, reason: 'detect-mult' });
    expect(mutate('up-a', (b) => (b[1] |= 0x01))).toEqual({ ok: false, reason: 'multipoint' });
    expect(mutate('up-a', (b) => b.writeUInt32BE(0, 4))).toEqual({ ok: false, reason: 'my-discriminator' });
    expect(mutate('up-a', (b) => b.writeUInt32BE(0, 8))).toEqual({ ok: false, reason: 'your-discriminator' });
    expect(mutate('init-a', (b) => b.writeUInt32BE(0, 8))).toEqual({ ok: false, reason: 'your-discriminator' });
    expect(mutate('up-a', (b) => (b[1] |= 0x30))).toEqual({ ok: false, reason: 'poll-final' });
  });
  it('refuses an authentication section even when it is well formed', () => {
    const withAuth = Buffer.concat([pkt('up-a'), Buffer.from([1, 4, 1, 0x61])]);
    withAuth[1] |= 0x04;
    withAuth[3] = 28;
    expect(decodeControl(withAuth)).toEqual({ ok: false, reason: 'auth' });
  });
  it('accepts Your Discriminator 0 in Down and AdminDown only', () => {
    expect(decodeControl(pkt('down-a')).ok).toBe(true);
    expect(mutate('down-a', (b) => (b[1] = 0x00))).toMatchObject({ ok: true, packet: { state: 'AdminDown' } });
  });
  it('reads Length, not the datagram size: trailing bytes are ignored', () => {
    expect(decodeControl(Buffer.concat([pkt('up-a'), Buffer.alloc(8)]))).toEqual(decodeControl(pkt('up-a')));
  });
  it('decodes reserved diagnostics, C and D bits', () => {
    const r = mutate('up-a', (b) => {
      b[0] = (1 << 5) | 31;
      b[1] |= 0x0a;
    });
    expect(r).toMatchObject({ ok: true, packet: { diag: 31, cpi: true, demand: true } });
  });
});

describe('BFD codec encoding', () => {
  it('refuses what a sender must not send', () => {
    const bad: [Partial<ControlPacket>, keyof ControlPacket][] = [
      [{ auth: true }, 'auth'],
      [{ multipoint: true }, 'multipoint'],
      [{ poll: true, final: true }, 'final'],
      [{ detectMult: 0 }, 'detectMult'],
      [{ detectMult: 256 }, 'detectMult'],
      [{ myDiscriminator: 0 }, 'myDiscriminator'],
      [{ yourDiscriminator: 2 ** 32 }, 'yourDiscriminator'],
      [{ desiredMinTxUs: -1 }, 'desiredMinTxUs'],
      [{ requiredMinRxUs: 1.5 }, 'requiredMinRxUs'],
      [{ diag: 32 }, 'diag'],
    ];
    for (const [patch, field] of bad) {
      const e = (() => {
        try {
          encodeControl({ ...base, ...patch });
        } catch (err) {
          return err;
        }
      })();
      expect(e, JSON.stringify(patch)).toBeInstanceOf(BfdCodecError);
      expect((e as BfdCodecError).field).toBe(field);
    }
  });
});

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const validPacket = fc
  .record({
    diag: fc.integer({ min: 0, max: 31 }),
    state: fc.constantFrom(...BFD_STATES),
    poll: fc.boolean(),
    final: fc.boolean(),
    cpi: fc.boolean(),
    demand: fc.boolean(),
    detectMult: fc.integer({ min: 1, max: 255 }),
    myDiscriminator: fc.integer({ min: 1, max: 0xffff_ffff }),
    yourDiscriminator: u32,
    desiredMinTxUs: u32,
    requiredMinRxUs: u32,
    requiredMinEchoRxUs: u32,
  })
  .map((r): ControlPacket => ({
    ...r,
    auth: false,
    multipoint: false,
    final: r.final && !r.poll,
    yourDiscriminator: r.state === 'Init' || r.state === 'Up' ? r.yourDiscriminator || 1 : r.yourDiscriminator,
  }));

describe('BFD codec properties', () => {
  it('decode(encode(p)) = p for every packet we may send', () => {
    fc.assert(
      fc.property(validPacket, (p) => {
        expect(decodeControl(encodeControl(p))).toEqual({ ok: true, packet: p });
      }),
    );
  });
  it('the decoder never throws on arbitrary bytes and only returns typed rejects', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const r = decodeControl(bytes);
        if (!r.ok) expect(REJECT_REASONS).toContain(r.reason);
        else {
          // Everything but Length (we always send 24) survives a round trip.
          const head = Buffer.from(bytes.subarray(0, 24));
          head[3] = 24;
          expect(encodeControl(r.packet)).toEqual(head);
        }
      }),
      { numRuns: 20_000 },
    );
  });
  it('the decoder never throws on single-bit and single-byte corruptions of real packets', () => {
    const names = [...fixtures.keys()];
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 255 }), (name, at, v) => {
        const b = pkt(name);
        b[at] = v;
        const r = decodeControl(b);
        if (!r.ok) expect(REJECT_REASONS).toContain(r.reason);
      }),
      { numRuns: 5_000 },
    );
  });
  it('decodes a view into a larger buffer at an offset', () => {
    const big = Buffer.concat([Buffer.alloc(7, 0xff), pkt('up-b')]);
    expect(decodeControl(new Uint8Array(big.buffer, big.byteOffset + 7, 24))).toEqual(decodeControl(pkt('up-b')));
  });
});
