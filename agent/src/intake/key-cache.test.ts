import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CompactSign, compactVerify, exportJWK, type JWK } from 'jose';
import { KeyCache } from './key-cache.ts';
import { testKey } from './keys.test-support.ts';

const signed = async (k: Awaited<ReturnType<typeof testKey>>, text: string) =>
  new CompactSign(new TextEncoder().encode(text)).setProtectedHeader({ alg: 'EdDSA', kid: k.kid }).sign(k.priv);

describe('KeyCache', () => {
  it('imports a JWK once and answers the same key for the same content, another for another key', async () => {
    const cache = new KeyCache();
    const [a, b] = [await testKey(), await testKey()];
    const ka = await cache.import(a.pub);
    expect(await cache.import({ ...a.pub })).toBe(ka);
    const kb = await cache.import(b.pub);
    expect(kb).not.toBe(ka);
    expect(cache.size).toBe(2);
    // Each verifies its own signature and not the other's.
    await expect(compactVerify(await signed(a, 'x'), ka)).resolves.toBeTruthy();
    await expect(compactVerify(await signed(a, 'x'), kb)).rejects.toThrow(/signature verification failed/);
  });

  it('keys by the whole JWK: the same kid with other key material is another key', async () => {
    const cache = new KeyCache();
    const [a, b] = [await testKey(), await testKey()];
    const ka = await cache.import(a.pub);
    const forged = await cache.import({ ...b.pub, kid: a.kid });
    expect(forged).not.toBe(ka);
    await expect(compactVerify(await signed(b, 'y'), ka)).rejects.toThrow(/signature verification failed/);
  });

  it('keeps no failed import: a bad key is refused every time, and a good one after it imports', async () => {
    const cache = new KeyCache();
    const bad = { kty: 'OKP', crv: 'Ed25519', x: 'not-a-key', kid: 'k' };
    await expect(cache.import(bad)).rejects.toThrow();
    expect(cache.size).toBe(0);
    await expect(cache.import(bad)).rejects.toThrow();
    const a = await testKey();
    await cache.import(a.pub);
    expect(cache.size).toBe(1);
  });

  it('imports only Ed25519 public keys: another curve is refused, and a JWK that carries its private part gives its public key', async () => {
    const cache = new KeyCache();
    for (const kind of ['ed448', 'x25519'] as const) {
      const jwk = generateKeyPairSync(kind as 'ed448').publicKey.export({ format: 'jwk' });
      await expect(cache.import({ ...jwk, kid: kind } as JWK)).rejects.toThrow(/not an Ed25519 public key/);
    }
    await expect(cache.import({ kty: 'oct', k: 'c2VjcmV0', kid: 'oct' })).rejects.toThrow();
    const a = await testKey();
    const key = await cache.import({ ...(await exportJWK(a.priv)), kid: a.kid });
    expect([key.type, key.asymmetricKeyType]).toEqual(['public', 'ed25519']);
    await expect(compactVerify(await signed(a, 'w'), key)).resolves.toBeTruthy();
  });

  it('holds at most its bound of keys', async () => {
    const cache = new KeyCache(2);
    const keys = [await testKey(), await testKey(), await testKey()];
    for (const k of keys) await cache.import(k.pub);
    expect(cache.size).toBeLessThanOrEqual(2);
    // Still answers a working key for the one dropped.
    await expect(compactVerify(await signed(keys[0], 'z'), await cache.import(keys[0].pub))).resolves.toBeTruthy();
  });
});
