import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Db } from '../db/client.ts';
import { signingKeys } from '../db/schema.ts';
import { JWS_ALG, JWS_TYP } from '#shared/wire/desired.ts';
import { checkClaimsBody, type DesiredClaims } from '#shared/wire/desired-claims.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import { KeyTrust, type PublicKeyJwk } from '#shared/wire/key-trust.ts';
import { byAge, trustOf } from './rotation.ts';
import { readKeyRows } from './key-store.ts';
import { compactJwsBytes, utf8Of } from './jws-bytes.ts';
import { openJwk, sealJwk } from './sealed-jwk.ts';

/** Signs desired-state documents with the cloud's Ed25519 key (docs/architecture.md, "Trust model"). */
export interface Signer {
  /** Key id of the key that signs now (RFC 7638 thumbprint of its public JWK). */
  readonly kid: string;
  /** Generation of the key set the documents carry (docs/architecture.md, "Key rotation"). */
  readonly generation: number;
  /**
   * Validates the claims (DesiredClaims), adds the key set as the `trust` claim, and answers a
   * compact JWS, as its ASCII bytes (./jws-bytes.ts): alg EdDSA, header kid and typ. `canonical`,
   * when the caller has it, is the canonical JSON of exactly these claims (without `trust`): signed
   * as it is instead of being serialised again (the apply made it for the outbox row; a director's
   * is 350 KB at 1,000 nodes).
   */
  sign(claims: DesiredClaims, canonical?: string): Promise<Uint8Array>;
  /** Public JWKs of every non-retired key, each with kid: what agents pin at enrollment. */
  publicJwks(): Promise<JWK[]>;
  /** Reads the keys again (after a rotation step); answers whether the key set changed. */
  reload(): Promise<boolean>;
}

/**
 * Ed25519 over `data` with `key`, answering the 64-byte signature. The data is copied before it
 * returns (the signer writes the next document into the same buffer meanwhile). WebCrypto's by
 * default, which every runtime has; Node's server passes its own (./ed25519-node.ts).
 */
export type SignEd25519 = (key: CryptoKey, data: Uint8Array<ArrayBuffer>) => Promise<Uint8Array>;

/** WebCrypto copies the data before `sign()` returns (its "get a copy of the bytes" step). */
const webCryptoEd25519: SignEd25519 = async (key, data) => new Uint8Array(await crypto.subtle.sign('Ed25519', key, data));

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

interface Loaded {
  kid: string;
  /** The imported private key, kept for every signature until the key set changes. */
  key: CryptoKey;
  /** The encoded protected header (RFC 7515 §7.1: BASE64URL(UTF8(header))), as its ASCII bytes: the same for every document this key signs. */
  headerBytes: Uint8Array;
  trust: KeyTrust;
  /** The canonical JSON of `trust`, the same in every document this key set signs. */
  trustJson: string;
  /** Why `trust` fails the `trust` claim's schema (checked once per load), or null: every signature is then refused. */
  trustIssue: string | null;
  publicJwks: JWK[];
}

/**
 * Loads the newest active signing key from `signing_keys`, making and storing one at first
 * start. The private key never leaves the database row and this process; with `keySecret` it is
 * stored sealed under it (./sealed-jwk.ts), and rows stored plain still load.
 */
export async function loadSigner(db: Db, opts: { keySecret?: string; ed25519?: SignEd25519 } = {}): Promise<Signer> {
  const secret = opts.keySecret;
  const ed25519 = opts.ed25519 ?? webCryptoEd25519;
  let loaded = await load(db, secret);
  if (!loaded) {
    const made = await makeKey();
    const privateJwk = await sealJwk(made.privateJwk, made.kid, secret);
    await db
      .insert(signingKeys)
      .values({ kid: made.kid, alg: JWS_ALG, publicJwk: made.publicJwk, privateJwk, state: 'active', activatedAt: new Date() })
      .onConflictDoNothing();
    // Two processes starting at once may both insert; both keys are then published and valid.
    loaded = await load(db, secret);
    if (!loaded) throw new SigningError('bad_key', 'signing key was not stored');
  }
  let current = loaded;
  return {
    get kid() {
      return current.kid;
    },
    get generation() {
      return current.trust.generation;
    },
    async sign(claims, canonical) {
      // The claims are checked without `trust`, which is the key set's own: the same object in
      // every document, checked once when the key set was loaded (a third of the check's time for
      // a real server's document). A `trust` in `claims` is replaced, as it always was.
      const { trust: _replaced, ...body } = claims;
      const checked = checkClaimsBody(body, checkedServices);
      if (!checked.success) throw new SigningError('invalid_claims', claimsIssue(checked.error));
      if (current.trustIssue) throw new SigningError('invalid_claims', current.trustIssue);
      // RFC 7515 §5.1 and RFC 8037 §3.1: the signing input is header.payload, signed with Ed25519
      // directly (no per-document key checks or header encoding: both are per key). The schema's
      // output is its input (shared/wire/schemas.test.ts), so the claims are serialised as given.
      const { key, headerBytes } = current;
      const payload =
        canonical !== undefined && !('trust' in claims) ? withTrust(canonical, current.trustJson) : [canonicalJson({ ...body, trust: current.trust })];
      return compactJwsBytes(headerBytes, utf8Of(payload), (input) => ed25519(key, input));
    },
    async publicJwks() {
      return current.publicJwks;
    },
    async reload() {
      const next = await load(db, secret, current);
      if (!next) throw new SigningError('bad_key', 'no active signing key');
      const changed = next.kid !== current.kid || next.trust.generation !== current.trust.generation;
      current = next;
      return changed;
    },
  };
}

/**
 * The canonical JSON of claims without `trust` plus `trust`, as the parts of one text: every other
 * claim's name sorts before "trust", so in canonical order it is the last member.
 */
function withTrust(canonical: string, trustJson: string): string[] {
  if (!canonical.startsWith('{') || !canonical.endsWith('}') || canonical === '{}')
    throw new SigningError('invalid_claims', 'claims: not a canonical JSON object');
  return [canonical.slice(0, -1), ',"trust":', trustJson, '}'];
}

/**
 * The service objects this process's signers have checked (`checkClaimsBody`): an apply's compile
 * gives back an unchanged service as the very object it gave before, so it is checked once.
 */
const checkedServices = new WeakSet<object>();

/** A schema's first issue as the claim it names: `claims.` then `under` and the issue's path, then its message. */
function claimsIssue(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }, under: readonly string[] = []): string {
  const first = error.issues[0];
  return `claims.${[...under, ...(first?.path ?? [])].map(String).join('.')}: ${first?.message ?? 'invalid'}`;
}

/** The `trust` claim's problem in DesiredClaims' words (`claims.trust.…: message`), or null. */
function trustIssueOf(trust: KeyTrust): string | null {
  const r = KeyTrust.safeParse(trust);
  return r.success ? null : claimsIssue(r.error, ['trust']);
}

/**
 * The newest active key and the key set, or null when no key is active. `previous`: what the last
 * load gave. While the active key is the one it had, its imported key and header are kept: the
 * rotator reloads every second on every replica, and opening a sealed key and importing it again
 * was 1.5 ms of CPU each time for the very same key (its kid is its public key's thumbprint, and
 * a private key has one public key).
 */
async function load(db: Db, secret: string | undefined, previous?: Loaded): Promise<Loaded | null> {
  const rows = await readKeyRows(db);
  const active = byAge(rows.filter((r) => r.state === 'active')).at(-1);
  if (!active) return null;
  const { key, headerBytes } = previous?.kid === active.kid ? previous : await imported(active.kid, active.privateJwk, secret);
  const live = byAge(rows.filter((r) => r.state !== 'retired'));
  const trust = trustOf(rows);
  return {
    kid: active.kid,
    key,
    headerBytes,
    trust,
    trustJson: canonicalJson(trust),
    trustIssue: trustIssueOf(trust),
    publicJwks: live.map((r) => ({ ...(r.publicJwk as JWK), kid: r.kid, alg: JWS_ALG, use: 'sig' })),
  };
}

/** A stored private key opened (./sealed-jwk.ts) and imported, with the protected header its JWSs carry. */
async function imported(kid: string, stored: unknown, secret: string | undefined): Promise<Pick<Loaded, 'key' | 'headerBytes'>> {
  const key = await importJWK(await openJwk(stored, kid, secret), JWS_ALG);
  if (key instanceof Uint8Array) throw new SigningError('bad_key', `signing key ${kid} is not an Ed25519 key`);
  return { key, headerBytes: new TextEncoder().encode(base64url.encode(JSON.stringify({ alg: JWS_ALG, kid, typ: JWS_TYP }))) };
}

/** A new Ed25519 key; its kid is the RFC 7638 thumbprint of the public JWK. */
export async function makeKey(): Promise<{ kid: string; publicJwk: PublicKeyJwk; privateJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair(JWS_ALG, { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const privateJwk = await exportJWK(privateKey);
  // RFC 7638: the thumbprint of the public key is a stable, collision-free key id.
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  return { kid, publicJwk: { kty: 'OKP', crv: 'Ed25519', x: publicJwk.x!, kid }, privateJwk: { ...privateJwk, kid } };
}
