import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64urlLength, writeBase64url } from './base64url-bytes.ts';

const encoded = (src: Uint8Array, at = 0, fill = 0x21) => {
  const dst = new Uint8Array(at + base64urlLength(src.length) + 3).fill(fill);
  const end = writeBase64url(src, dst, at);
  return { dst, end };
};

describe('writeBase64url', () => {
  it("writes Node's base64url of any bytes at any offset, exactly base64urlLength long, and nothing else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(7), (src, at) => {
        const { dst, end } = encoded(src, at);
        expect(end - at).toBe(base64urlLength(src.length));
        expect(Buffer.from(dst.subarray(at, end)).toString('latin1')).toBe(Buffer.from(src).toString('base64url'));
        // Untouched before and after.
        expect([...dst.subarray(0, at), ...dst.subarray(end)].every((b) => b === 0x21)).toBe(true);
      }),
    );
  });

  it('encodes every 6-bit value with the URL-safe alphabet and no padding', () => {
    const all = Uint8Array.from(
      { length: 48 },
      (_, k) =>
        [
          0x00, 0x10, 0x83, 0x10, 0x51, 0x87, 0x20, 0x92, 0x8b, 0x30, 0xd3, 0x8f, 0x41, 0x14, 0x93, 0x51, 0x55, 0x97, 0x61, 0x96, 0x9b, 0x71, 0xd7, 0x9f, 0x82,
          0x18, 0xa3, 0x92, 0x59, 0xa7, 0xa2, 0x9a, 0xab, 0xb2, 0xdb, 0xaf, 0xc3, 0x1c, 0xb3, 0xd3, 0x5d, 0xb7, 0xe3, 0x9e, 0xbb, 0xf3, 0xdf, 0xbf,
        ][k],
    );
    const { dst, end } = encoded(all);
    expect(Buffer.from(dst.subarray(0, end)).toString('latin1')).toBe('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');
    expect([1, 2, 3].map((n) => base64urlLength(n))).toEqual([2, 3, 4]);
  });
});
