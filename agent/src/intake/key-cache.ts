import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { canonicalJson } from '#shared/util/canonical-json.ts';

/** More distinct keys than a node ever trusts at once (a rotation's few, a chain's certified ones). */
const MAX_CACHED_KEYS = 32;

/**
 * Imported verification keys (node:crypto key objects, what compact-jws.ts verifies with) by their
 * JWK's content. An import costs about as much as verifying a real server's document, and every
 * document is signed by one of the same few pinned keys. Keyed by the whole JWK's canonical text,
 * not its kid or object: the same text imports the same key, so a hit can never be a different
 * key. A failed import is not kept.
 */
export class KeyCache {
  private readonly keys = new Map<string, Promise<KeyObject>>();

  constructor(private readonly max = MAX_CACHED_KEYS) {}

  import(jwk: JWK): Promise<KeyObject> {
    const id = canonicalJson(jwk);
    const known = this.keys.get(id);
    if (known) return known;
    // Bounded: a chain of certificates could name many keys; dropping them all costs only imports.
    if (this.keys.size >= this.max) this.keys.clear();
    // Only the public members: a JWK that also carries `d` still names its public key, never a private one here.
    const key = Promise.resolve().then(() => {
      const k = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x } as JsonWebKey, format: 'jwk' });
      if (k.asymmetricKeyType !== 'ed25519') throw new TypeError(`key ${String(jwk.kid)} is not an Ed25519 public key`);
      return k;
    });
    this.keys.set(id, key);
    key.catch(() => {
      if (this.keys.get(id) === key) this.keys.delete(id);
    });
    return key;
  }

  get size(): number {
    return this.keys.size;
  }
}

/** The process's cache: the agent trusts one key set at a time. */
export const verificationKeys = new KeyCache();
