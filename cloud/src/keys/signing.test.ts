import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, compactVerify, createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { eq } from 'drizzle-orm';
import { openDatabase, type Database } from '../db/client.ts';
import { loadSigner, SigningError } from './signing.ts';
import { nodeEd25519 } from './ed25519-node.ts';
import { signingKeys } from '../db/schema.ts';
import { claimsFor, seedsSite } from '../../test/fixtures.test-support.ts';
import { JWS_TYP, type DesiredClaims } from '#shared/wire/desired.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';

const open: Database[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const d of open.splice(0)) await d.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A JWS the signer answers (its ASCII bytes) as text. */
const text = (jws: Uint8Array) => new TextDecoder().decode(jws);

describe('loadSigner', () => {
  it('signs validated claims as an EdDSA JWS that verifies with the public JWKs', async () => {
    const d = await openDatabase({});
    open.push(d);
    const signer = await loadSigner(d.db);
    const claims = claimsFor(seedsSite(), 'dr1', 1);
    const jws = await signer.sign(claims);
    // Bytes mqtt.js sends as they are.
    expect(Buffer.isBuffer(jws)).toBe(true);
    const header = decodeProtectedHeader(text(jws));
    expect(header).toEqual({ alg: 'EdDSA', kid: signer.kid, typ: JWS_TYP });
    const jwks = await signer.publicJwks();
    expect(jwks).toHaveLength(1);
    expect(jwks[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: signer.kid });
    expect(jwks[0]).not.toHaveProperty('d');
    const { payload } = await compactVerify(jws, createLocalJWKSet({ keys: jwks }));
    // The claims, and the key set agents pin (docs/architecture.md, "Key rotation").
    const { kty, crv, x, kid } = jwks[0];
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual({
      ...claims,
      trust: { generation: 1, keys: [{ state: 'active', jwk: { kty, crv, x, kid } }], chain: [] },
    });
  });

  it('signs the canonical text it is given to the same JWS as the claims it serialises itself, still validating the claims', async () => {
    const d = await openDatabase({});
    open.push(d);
    const signer = await loadSigner(d.db);
    const override = {
      kind: 'maintenance-director',
      id: 'ov-1',
      node: 'dr1',
      until: '2030-01-01T00:00:00.000Z',
      author: 't',
      reason: 'Wartung ✓',
      createdAt: '2029-12-31T00:00:00.000Z',
    };
    for (const claims of [
      claimsFor(seedsSite(), 'dr1', 1),
      { ...claimsFor(seedsSite(), 'dr1', 2), overridesVersion: 3, overrides: [override] },
    ] as DesiredClaims[])
      expect(await signer.sign(claims, canonicalJson(claims))).toEqual(await signer.sign(claims));
    const bad = { ...claimsFor(seedsSite(), 'dr1', 1), revision: 0 };
    await expect(signer.sign(bad, canonicalJson(bad))).rejects.toThrow(/claims\.revision/);
    await expect(signer.sign(claimsFor(seedsSite(), 'dr1', 1), '[]')).rejects.toThrow(/not a canonical JSON object/);
  });

  it.each([
    ['WebCrypto', undefined],
    ["Node's crypto.sign", nodeEd25519()],
  ])('signs documents of every size at once to the JWS each gets alone with %s (the signing input is written into a kept buffer)', async (_, ed25519) => {
    const d = await openDatabase({});
    open.push(d);
    const signer = await loadSigner(d.db, { ed25519 });
    const jwks = createLocalJWKSet({ keys: await signer.publicJwks() });
    // A long document first, then shorter ones: each signature is over its own bytes only.
    const site = seedsSite();
    const docs = [60, 1, 0, 12, 2].map((n, i) => {
      const overrides = Array.from({ length: n }, (_, k) => ({
        kind: 'maintenance-director',
        id: `ov-${i}-${k}`,
        node: 'dr1',
        until: '2030-01-01T00:00:00.000Z',
        author: 't',
        reason: `Wartung ✓ ${k} `.repeat(20),
        createdAt: '2029-12-31T00:00:00.000Z',
      }));
      return { ...claimsFor(site, 'dr1', i + 1), overridesVersion: 1, overrides } as DesiredClaims;
    });
    const alone: Uint8Array[] = [];
    for (const c of docs) alone.push(await signer.sign(c, canonicalJson(c)));
    const atOnce = await Promise.all(docs.map((c) => signer.sign(c, canonicalJson(c))));
    // Ed25519 is deterministic: the same key and bytes give the same signature.
    expect(atOnce).toEqual(alone);
    for (const [i, jws] of atOnce.entries()) {
      const { payload } = await compactVerify(jws, jwks);
      expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({ revision: i + 1, overrides: docs[i].overrides });
    }
  });

  it("signs with Node's crypto.sign to the very JWS WebCrypto gives (Ed25519 is deterministic), which jose verifies", async () => {
    const d = await openDatabase({});
    open.push(d);
    const web = await loadSigner(d.db);
    const node = await loadSigner(d.db, { ed25519: nodeEd25519() });
    expect(node.kid).toBe(web.kid);
    const jwks = createLocalJWKSet({ keys: await web.publicJwks() });
    const site = seedsSite();
    for (const name of ['dr1', 'dr2', 'rs1']) {
      const claims = claimsFor(site, name, 7);
      const jws = await node.sign(claims, canonicalJson(claims));
      expect(jws).toEqual(await web.sign(claims, canonicalJson(claims)));
      const { payload } = await compactVerify(jws, jwks);
      expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({ nodeId: claims.nodeId, revision: 7 });
    }
  });

  it('refuses claims that fail the DesiredClaims schema, naming the field', async () => {
    const d = await openDatabase({});
    open.push(d);
    const signer = await loadSigner(d.db);
    const bad = { ...claimsFor(seedsSite(), 'dr1', 1), revision: 0 };
    await expect(signer.sign(bad)).rejects.toBeInstanceOf(SigningError);
    await expect(signer.sign(bad)).rejects.toThrow(/claims\.revision/);
  });

  it('refuses a member the schema does not have, and signs the key set as `trust` whatever trust the claims carry', async () => {
    const d = await openDatabase({});
    open.push(d);
    const signer = await loadSigner(d.db);
    const claims = claimsFor(seedsSite(), 'rs1', 1);
    await expect(signer.sign({ ...claims, extra: 1 } as DesiredClaims)).rejects.toThrow(/^claims\.: .*extra/);
    const own = await signer.sign(claims);
    const bogus = { generation: 99, keys: [], chain: ['x'] } as unknown as DesiredClaims['trust'];
    expect(await signer.sign({ ...claims, trust: bogus })).toEqual(own);
  });

  it('refuses every signature while its key set fails the `trust` claim, naming it, until a reload brings a valid one', async () => {
    const d = await openDatabase({});
    open.push(d);
    const first = await loadSigner(d.db);
    // More non-retired keys than a document may carry (MAX_TRUSTED_KEYS is 8).
    const added: string[] = [];
    for (let i = 1; i <= 8; i++) {
      const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      const pub = await exportJWK(publicKey);
      const kid = await calculateJwkThumbprint(pub);
      added.push(kid);
      await d.db.insert(signingKeys).values({ kid, publicJwk: pub, privateJwk: await exportJWK(privateKey), createdAt: new Date(Date.now() + i * 1000) });
    }
    const signer = await loadSigner(d.db);
    const claims = claimsFor(seedsSite(), 'dr1', 1);
    await expect(signer.sign(claims)).rejects.toBeInstanceOf(SigningError);
    await expect(signer.sign(claims, canonicalJson(claims))).rejects.toThrow(/^claims\.trust\.keys: /);
    // The claims' own problems still come first.
    await expect(signer.sign({ ...claims, revision: 0 })).rejects.toThrow(/claims\.revision/);
    await d.db.update(signingKeys).set({ retiredAt: new Date() }).where(eq(signingKeys.kid, first.kid));
    await signer.reload();
    const jws = await signer.sign(claims);
    const { payload } = await compactVerify(jws, createLocalJWKSet({ keys: await signer.publicJwks() }));
    expect(JSON.parse(new TextDecoder().decode(payload)).trust.keys).toHaveLength(8);
    expect(added).toContain(signer.kid);
  });

  it('opens the active key once while it stays active, and the next active key at the reload that finds it', async () => {
    const d = await openDatabase({});
    open.push(d);
    const signer = await loadSigner(d.db, { keySecret: 'a secret of the bench' });
    const claims = claimsFor(seedsSite(), 'dr1', 1);
    const before = text(await signer.sign(claims));
    // The stored key no longer opens: a reload that opened it again would fail (as a start would).
    await d.db
      .update(signingKeys)
      .set({ privateJwk: { sealed: 'A256GCM', iv: 'AAAAAAAAAAAAAAAA', ct: 'AAAAAAAAAAAAAAAAAAAAAA' } })
      .where(eq(signingKeys.kid, signer.kid));
    await expect(loadSigner(d.db, { keySecret: 'a secret of the bench' })).rejects.toThrow();
    expect(await signer.reload()).toBe(false);
    expect(text(await signer.sign(claims))).toBe(before);
    // A newer active key is opened and signs from that reload on.
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const pub = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(pub);
    await d.db.insert(signingKeys).values({ kid, publicJwk: pub, privateJwk: await exportJWK(privateKey), createdAt: new Date(Date.now() + 1000) });
    expect(await signer.reload()).toBe(true);
    expect(signer.kid).toBe(kid);
    const jws = await signer.sign(claims);
    expect(decodeProtectedHeader(text(jws)).kid).toBe(kid);
    await expect(compactVerify(jws, createLocalJWKSet({ keys: await signer.publicJwks() }))).resolves.toBeTruthy();
  });

  it('keeps the key across a restart of the same data dir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsfleet-keys-'));
    dirs.push(dir);
    const a = await openDatabase({ dataDir: dir });
    const first = await loadSigner(a.db);
    const jws = await first.sign(claimsFor(seedsSite(), 'dr2', 3));
    await a.close();
    const b = await openDatabase({ dataDir: dir });
    open.push(b);
    const second = await loadSigner(b.db);
    expect(second.kid).toBe(first.kid);
    await expect(compactVerify(jws, createLocalJWKSet({ keys: await second.publicJwks() }))).resolves.toBeTruthy();
    expect(await b.db.select().from(signingKeys)).toHaveLength(1);
  });

  it('lists every non-retired key, signs with the newest, and drops retired keys (rotation)', async () => {
    const d = await openDatabase({});
    open.push(d);
    const old = await loadSigner(d.db);
    const oldJws = await old.sign(claimsFor(seedsSite(), 'dr1', 1));
    // What a rotation inserts: a newer key; the old one stays published until retired.
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const pub = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(pub);
    await d.db.insert(signingKeys).values({ kid, publicJwk: pub, privateJwk: await exportJWK(privateKey), createdAt: new Date(Date.now() + 1000) });
    const rotated = await loadSigner(d.db);
    expect(rotated.kid).toBe(kid);
    const both = await rotated.publicJwks();
    expect(both.map((k) => k.kid).sort()).toEqual([old.kid, kid].sort());
    await expect(compactVerify(oldJws, createLocalJWKSet({ keys: both }))).resolves.toBeTruthy();
    await d.db.update(signingKeys).set({ retiredAt: new Date() }).where(eq(signingKeys.kid, old.kid));
    expect(await rotated.reload()).toBe(false); // the generation did not move: rotation steps move it (rotator.test.ts)
    const after = await rotated.publicJwks();
    expect(after.map((k) => k.kid)).toEqual([kid]);
    await expect(compactVerify(oldJws, createLocalJWKSet({ keys: after }))).rejects.toThrow();
  });
});
