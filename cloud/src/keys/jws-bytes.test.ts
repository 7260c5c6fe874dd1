import { createPrivateKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compactJwsBytes, utf8Of } from './jws-bytes.ts';

const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

describe('utf8Of', () => {
  it("writes the parts' concatenation as UTF-8, each call alone however long the one before (a kept buffer)", () => {
    // Longest first, then shorter and longer ones: a kept buffer's older bytes must never show,
    // and a lone surrogate is written as U+FFFD, as TextEncoder writes it.
    for (const parts of [
      ['é'.repeat(50_000)],
      ['sh', 'ort'],
      [],
      [''],
      ['z'],
      ['\ud800 lone', '✓'],
      ['{"a":1', ',"trust":', '{}', '}'],
      ['✓'.repeat(30_001), 'tail'],
    ])
      expect(Buffer.from(utf8Of(parts))).toEqual(Buffer.from(new TextEncoder().encode(parts.join(''))));
  });
});

describe('compactJwsBytes', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const key = createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const header = new TextEncoder().encode(Buffer.from('{"alg":"EdDSA"}').toString('base64url'));

  it('answers header.payload.signature as ASCII bytes, signed over exactly header.payload', async () => {
    for (const payload of ['', 'a', 'ab', 'abc', '{"reason":"Wartung ✓ 😀"}', 'x'.repeat(70_001)]) {
      const bytes = new TextEncoder().encode(payload);
      let signed = '';
      const jws = await compactJwsBytes(header, bytes, async (input) => {
        signed = text(input);
        return sign(null, input, key);
      });
      const [h, p, sig] = text(jws).split('.');
      expect(h).toBe(text(header));
      expect(p).toBe(Buffer.from(payload).toString('base64url'));
      expect(signed).toBe(`${h}.${p}`);
      expect(verify(null, Buffer.from(signed), publicKey, Buffer.from(sig, 'base64url'))).toBe(true);
      expect(sig).toHaveLength(86);
    }
  });

  it('reads the payload before it first awaits: a kept buffer written again meanwhile changes nothing', async () => {
    const kept = new TextEncoder().encode('{"revision":1}');
    const pending = compactJwsBytes(header, kept, async (input) => sign(null, input, key));
    kept.fill(0x41);
    expect(text(await pending).split('.')[1]).toBe(Buffer.from('{"revision":1}').toString('base64url'));
  });

  it('refuses a signature that is not 64 bytes', async () => {
    await expect(compactJwsBytes(header, new Uint8Array(3), async () => new Uint8Array(63))).rejects.toThrow(/63 bytes/);
  });
});
