import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { signingKeys } from '../db/schema.ts';
import { openTestDatabase } from '../db/test-db.test-support.ts';
import { openJwk, sealJwk } from './sealed-jwk.ts';
import { loadSigner, makeKey } from './signing.ts';
import { rotateKey } from './rotate.ts';

describe('sealed private signing keys', () => {
  it('seal → open answers the JWK; a wrong secret, another kid or no secret is refused by name', async () => {
    const { kid, privateJwk } = await makeKey();
    const sealed = await sealJwk(privateJwk, kid, 'secret-1');
    expect(JSON.stringify(sealed)).not.toContain(privateJwk.d!);
    expect(await openJwk(sealed, kid, 'secret-1')).toEqual(privateJwk);
    await expect(openJwk(sealed, kid, 'secret-2')).rejects.toThrow(`signing key ${kid} does not open`);
    await expect(openJwk(sealed, 'other-kid', 'secret-1')).rejects.toThrow('does not open');
    await expect(openJwk(sealed, kid, undefined)).rejects.toThrow('SIGNING_KEY_SECRET');
    // Without a secret nothing is sealed, and a plain row opens with or without one.
    expect(await sealJwk(privateJwk, kid, undefined)).toBe(privateJwk);
    expect(await openJwk(privateJwk, kid, 'secret-1')).toEqual(privateJwk);
  });

  it('loadSigner and keys rotate store keys sealed under the secret, and sign with them', async () => {
    const db = await openTestDatabase();
    try {
      const signer = await loadSigner(db.db, { keySecret: 's3cret' });
      const [row] = await db.db.select().from(signingKeys).where(eq(signingKeys.kid, signer.kid));
      expect(row.privateJwk).toEqual(expect.objectContaining({ sealed: 'A256GCM' }));
      const { kid } = await rotateKey(db.db, { orgId: 'default', actor: 'test' }, new Date(), 's3cret');
      const [rotated] = await db.db.select().from(signingKeys).where(eq(signingKeys.kid, kid));
      expect(rotated.privateJwk).toEqual(expect.objectContaining({ sealed: 'A256GCM' }));
      // Another process with the secret loads the same key; one without it cannot sign.
      expect((await loadSigner(db.db, { keySecret: 's3cret' })).kid).toBe(signer.kid);
      await expect(loadSigner(db.db)).rejects.toThrow('SIGNING_KEY_SECRET');
    } finally {
      await db.close();
    }
  });
});
