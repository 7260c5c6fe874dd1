import { CompactSign, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { asc, desc, isNull } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { signingKeys } from '../db/schema.ts';
import { DesiredClaims, JWS_ALG, JWS_TYP } from '#shared/wire/desired.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';

/** Signs desired-state documents with the cloud's Ed25519 key (docs/architecture.md, "Trust model"). */
export interface Signer {
  /** Key id of the key that signs (RFC 7638 thumbprint of its public JWK). */
  kid: string;
  /** Validates the claims (DesiredClaims) and answers a compact JWS: alg EdDSA, header kid and typ. */
  sign(claims: DesiredClaims): Promise<string>;
  /** Public JWKs of every non-retired key, each with kid: what agents pin at enrollment. */
  publicJwks(): Promise<JWK[]>;
}

/** Errors of the signing boundary. */
export class SigningError extends Error {
  constructor(
    readonly code: 'invalid_claims' | 'bad_key',
    message: string,
  ) {
    super(message);
    this.name = 'SigningError';
  }
}

/**
 * Loads the newest non-retired signing key from `signing_keys`, making and storing one at first
 * start. The private key never leaves the database row and this process.
 */
export async function loadSigner(db: Db): Promise<Signer> {
  let row = await newestActiveKey(db);
  if (!row) {
    const { publicJwk, privateJwk, kid } = await makeKey();
    await db.insert(signingKeys).values({ kid, alg: JWS_ALG, publicJwk, privateJwk }).onConflictDoNothing();
    // Two processes starting at once may both insert; both keys are then published and valid.
    row = await newestActiveKey(db);
    if (!row) throw new SigningError('bad_key', 'signing key was not stored');
  }
  const kid = row.kid;
  const key = await importJWK(row.privateJwk as JWK, JWS_ALG);
  return {
    kid,
    async sign(claims) {
      const parsed = DesiredClaims.safeParse(claims);
      if (!parsed.success) {
        const first = parsed.error.issues[0];
        throw new SigningError('invalid_claims', `claims.${first?.path.join('.') ?? ''}: ${first?.message ?? 'invalid'}`);
      }
      const payload = new TextEncoder().encode(canonicalJson(parsed.data));
      return new CompactSign(payload).setProtectedHeader({ alg: JWS_ALG, kid, typ: JWS_TYP }).sign(key);
    },
    async publicJwks() {
      const rows = await db.select().from(signingKeys).where(isNull(signingKeys.retiredAt)).orderBy(asc(signingKeys.createdAt));
      return rows.map((r) => ({ ...(r.publicJwk as JWK), kid: r.kid, alg: JWS_ALG, use: 'sig' }));
    },
  };
}

async function newestActiveKey(db: Db) {
  const rows = await db.select().from(signingKeys).where(isNull(signingKeys.retiredAt)).orderBy(desc(signingKeys.createdAt), asc(signingKeys.kid)).limit(1);
  return rows[0];
}

async function makeKey(): Promise<{ kid: string; publicJwk: JWK; privateJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair(JWS_ALG, { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const privateJwk = await exportJWK(privateKey);
  // RFC 7638: the thumbprint of the public key is a stable, collision-free key id.
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  return { kid, publicJwk: { ...publicJwk, kid }, privateJwk: { ...privateJwk, kid } };
}
