import { KeyObject, sign } from 'node:crypto';
import type { SignEd25519 } from './signing.ts';

/**
 * Ed25519 by Node's own `crypto.sign` with a callback: the same OpenSSL job on libuv's pool as
 * WebCrypto's, without WebCrypto's per-call argument checks and algorithm lookup. Those made
 * starting a job cost the main thread about three times as much (10,000 documents: 94-220 ms
 * against 33-59).
 * Ed25519 is deterministic (RFC 8032 §5.1.6), so both give the very same signature. The async job
 * copies `data` before `sign` returns. The key's KeyObject is made once per CryptoKey.
 */
export function nodeEd25519(): SignEd25519 {
  const keys = new WeakMap<CryptoKey, KeyObject>();
  return (key, data) => {
    let k = keys.get(key);
    if (!k) keys.set(key, (k = KeyObject.from(key)));
    const keyObject = k;
    return new Promise((resolve, reject) => sign(null, data, keyObject, (err, signature) => (err ? reject(err) : resolve(signature))));
  };
}
