import { calculateJwkThumbprint, type JWK } from 'jose';
import { jwsHeader, verifyCompact } from './compact-jws.ts';
import * as z from 'zod';
import { JWS_ALG } from '#shared/wire/desired.ts';
import { JWS_KEY_TYP, KeyCertificate, KeyTrust, MAX_TRUSTED_KEYS } from '#shared/wire/key-trust.ts';
import { verificationKeys } from './key-cache.ts';

/** The certificate chain of a document not verified yet: read only to find keys, each proven by a key already trusted. */
const UnverifiedChain = z.object({ trust: z.object({ chain: KeyTrust.shape.chain }).passthrough() }).passthrough();

/**
 * Reads the `trust.chain` of a document whose signature is not checked yet (docs/architecture.md,
 * "Key rotation"). Nothing in it is believed: `keysThroughChain` takes a certificate only when a
 * key already trusted signed it.
 */
export function unverifiedChain(jws: string): string[] {
  try {
    const payload = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as unknown;
    const r = UnverifiedChain.safeParse(payload);
    return r.success ? r.data.trust.chain : [];
  } catch {
    return [];
  }
}

/**
 * The pinned keys extended by the certificates of `chain`: a certificate counts when its header
 * kid is a key already trusted, its EdDSA signature verifies with that key, its `previous` is
 * that kid and the certified key's RFC 7638 thumbprint is its kid. Repeats until no certificate
 * adds a key, so order does not matter; each certificate is verified at most once.
 * TUF's rule for root rotation: a new key is trusted only through the key before it.
 */
export async function keysThroughChain(pinned: readonly JWK[], chain: readonly string[]): Promise<JWK[]> {
  const trusted = new Map(pinned.filter((k) => typeof k.kid === 'string').map((k) => [k.kid!, k]));
  const open = new Set(chain.slice(0, MAX_TRUSTED_KEYS));
  let grew = true;
  while (grew && open.size) {
    grew = false;
    for (const cert of open) {
      let kid: string | undefined;
      try {
        const h = jwsHeader(cert);
        if (h.typ !== JWS_KEY_TYP || h.alg !== JWS_ALG) {
          open.delete(cert);
          continue;
        }
        kid = typeof h.kid === 'string' ? h.kid : undefined;
      } catch {
        open.delete(cert);
        continue;
      }
      const signer = kid === undefined ? undefined : trusted.get(kid);
      if (!signer) continue; // maybe later, once a certificate before it added its key
      open.delete(cert);
      const certified = await certifiedKey(cert, signer, kid!);
      if (certified && !trusted.has(certified.kid!)) {
        trusted.set(certified.kid!, certified);
        grew = true;
      }
    }
  }
  return [...trusted.values()];
}

async function certifiedKey(cert: string, signer: JWK, kid: string): Promise<JWK | null> {
  try {
    const payload = await verifyCompact(cert, await verificationKeys.import(signer));
    const c = KeyCertificate.safeParse(JSON.parse(payload.toString('utf8')));
    if (!c.success || c.data.previous !== kid) return null;
    if ((await calculateJwkThumbprint(c.data.jwk, 'sha256')) !== c.data.jwk.kid) return null;
    return c.data.jwk;
  } catch {
    return null;
  }
}
