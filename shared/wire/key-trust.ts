import * as z from 'zod';

/*
 * Key rotation on the wire (docs/architecture.md, "Key rotation"). TUF's rule: a new signing key
 * is trusted only through the key before it. Two pieces carry that:
 *
 * - the `trust` claim of a desired document: the cloud's key set (generation, keys with their
 *   state) signed, with the rest of the claims, by the active key. An agent pins exactly that set
 *   when its generation is newer than the one it holds, so an announced key is pinned before any
 *   document is signed with it, and a retired key is unpinned;
 * - key certificates: one compact JWS per key, signed by its predecessor, naming the new key. The
 *   `chain` of the trust claim lets an agent that missed rotations (offline) walk from a key it
 *   pinned to the key that signed the document, one verified step at a time.
 */

export const JWS_KEY_TYP = 'lvsfleet-key+jws';
/** Non-retired keys at once: an active, an announced and the retiring ones still waiting for acknowledgements. */
export const MAX_TRUSTED_KEYS = 8;
const Kid = z.string().min(1).max(64);

/** A public Ed25519 JWK as agents pin it (RFC 8037); `kid` is its RFC 7638 thumbprint. */
export const PublicKeyJwk = z.strictObject({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: z.string().min(1).max(64),
  kid: Kid,
  alg: z.literal('EdDSA').optional(),
  use: z.literal('sig').optional(),
});
export type PublicKeyJwk = z.infer<typeof PublicKeyJwk>;

/** active: signs documents; announced: pinned by agents, not used yet; retiring: superseded, kept until every node has its successor. */
const TRUSTED_KEY_STATES = ['active', 'announced', 'retiring'] as const;
export const KEY_STATES = [...TRUSTED_KEY_STATES, 'retired'] as const;
export type KeyState = (typeof KEY_STATES)[number];

export const KeyTrust = z.strictObject({
  /** Grows with every change to the key set; an agent takes a set only when it is newer than the one it pinned. */
  generation: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  keys: z
    .array(z.strictObject({ state: z.enum(TRUSTED_KEY_STATES), jwk: PublicKeyJwk }))
    .min(1)
    .max(MAX_TRUSTED_KEYS),
  /** Key certificates (compact JWS, typ JWS_KEY_TYP), oldest first. */
  chain: z.array(z.string().min(1).max(2048)).max(MAX_TRUSTED_KEYS),
});
export type KeyTrust = z.infer<typeof KeyTrust>;

/** Payload of a key certificate: `previous` (the header kid) vouches for `jwk`. */
export const KeyCertificate = z.strictObject({
  previous: Kid,
  jwk: PublicKeyJwk,
  issuedAt: z.string().datetime(),
});
export type KeyCertificate = z.infer<typeof KeyCertificate>;

/** What an agent reports in its status: the key set it pinned (the cloud's acknowledgement of a rotation). */
export const TrustReport = z.strictObject({
  generation: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  kids: z.array(Kid).max(MAX_TRUSTED_KEYS * 2),
});
export type TrustReport = z.infer<typeof TrustReport>;
