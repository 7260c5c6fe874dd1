import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Db } from '../db/client.ts';
import { signingKeys } from '../db/schema.ts';
import { JWS_ALG, JWS_TYP } from '#shared/wire/desired.ts';
import { DesiredClaims } from '#shared/wire/desired-claims.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import { KeyTrust, type PublicKeyJwk } from '#shared/wire/key-trust.ts';
import { signingInputWriter } from '#shared/wire/signing-input.ts';
import { byAge, trustOf } from './rotation.ts';
import { readKeyRows } from './key-store.ts';
import { openJwk, sealJwk } from './sealed-jwk.ts';

/** Signs desired-state documents with the cloud's Ed25519 key (docs/architecture.md, "Trust model"). */
export interface Signer {
  /** Key id of the key that signs now (RFC 7638 thumbprint of its public JWK). */
  readonly kid: string;
  /** Generation of the key set the documents carry (docs/architecture.md, "Key rotation"). */
  readonly generation: number;
  /**
   * Validates the claims (DesiredClaims), adds the key set as the `trust` claim, and answers a
   * compact JWS: alg EdDSA, header kid and typ. `canonical`, when the caller has it, is the
   * canonical JSON of exactly these claims (without `trust`): signed as it is instead of being
   * serialised again (the apply made it for the outbox row; a director's is 350 KB at 1,000 nodes).
   */
  sign(claims: DesiredClaims, canonical?: string): Promise<string>;
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
  /** The encoded protected header (RFC 7515 §7.1: BASE64URL(UTF8(header))): the same for every document this key signs. */
  header: string;
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
      const parsed = ClaimsBody.safeParse(body);
      if (!parsed.success) throw new SigningError('invalid_claims', claimsIssue(parsed.error));
      if (current.trustIssue) throw new SigningError('invalid_claims', current.trustIssue);
      // RFC 7515 §5.1 and RFC 8037 §3.1: the signing input is header.payload, signed with Ed25519
      // directly (no per-document key checks or header encoding: both are per key).
      const { key, header } = current;
      const payload =
        canonical !== undefined && !('trust' in claims) ? withTrust(canonical, current.trustJson) : canonicalJson({ ...parsed.data, trust: current.trust });
      const encoded = base64urlOf(payload);
      // The primitive copies the data before it returns, so the kept buffer may be written again
      // by the next document while this one is signed.
      const signature = await ed25519(key, signingInput(header, encoded));
      return `${header}.${encoded}.${base64urlOf(signature)}`;
    },
    async publicJwks() {
      return current.publicJwks;
    },
    async reload() {
      const next = await load(db, secret);
      if (!next) throw new SigningError('bad_key', 'no active signing key');
      const changed = next.kid !== current.kid || next.trust.generation !== current.trust.generation;
      current = next;
      return changed;
    },
  };
}

/**
 * The canonical JSON of claims without `trust` plus `trust`: every other claim's name sorts before
 * "trust", so in canonical order it is the last member.
 */
function withTrust(canonical: string, trustJson: string): string {
  if (!canonical.startsWith('{') || !canonical.endsWith('}') || canonical === '{}')
    throw new SigningError('invalid_claims', 'claims: not a canonical JSON object');
  return `${canonical.slice(0, -1)},"trust":${trustJson}}`;
}

/** DesiredClaims without `trust`: what the signer checks per document. */
const ClaimsBody = DesiredClaims.omit({ trust: true });

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

const NativeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;

/**
 * The UTF-8 bytes of a payload, in a buffer kept from one document to the next (grown to the
 * largest seen), filled and read by base64url at once: one document's bytes never meet another's.
 * A new buffer for each is new memory: a director's 350 KB payload took about 1 ms more that way.
 */
let textBytes = NativeBuffer?.alloc(0);

/**
 * base64url (no padding) of UTF-8 text or bytes. Node's Buffer (workerd's too, under
 * nodejs_compat) encodes natively: for a 1,000-node site's documents (two directors' are 350 KB
 * each) about 6 ms of CPU against jose's 45–55 ms; jose's encoder where there is no Buffer.
 */
export function base64urlOf(x: string | Uint8Array): string {
  if (!NativeBuffer || !textBytes) return base64url.encode(x);
  if (typeof x !== 'string') return NativeBuffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64url');
  const length = NativeBuffer.byteLength(x, 'utf8');
  if (textBytes.length < length) textBytes = NativeBuffer.allocUnsafe(length);
  const written = textBytes.write(x, 0, length, 'utf8');
  return textBytes.toString('base64url', 0, written);
}

/** The JWS signing input of each document, in a buffer kept for the next (`#shared/wire/signing-input.ts`). */
const signingInput = signingInputWriter();

/** The newest active key and the key set, or null when no key is active. */
async function load(db: Db, secret: string | undefined): Promise<Loaded | null> {
  const rows = await readKeyRows(db);
  const active = byAge(rows.filter((r) => r.state === 'active')).at(-1);
  if (!active) return null;
  const key = await importJWK(await openJwk(active.privateJwk, active.kid, secret), JWS_ALG);
  if (key instanceof Uint8Array) throw new SigningError('bad_key', `signing key ${active.kid} is not an Ed25519 key`);
  const header = base64url.encode(JSON.stringify({ alg: JWS_ALG, kid: active.kid, typ: JWS_TYP }));
  const live = byAge(rows.filter((r) => r.state !== 'retired'));
  const trust = trustOf(rows);
  return {
    kid: active.kid,
    key,
    header,
    trust,
    trustJson: canonicalJson(trust),
    trustIssue: trustIssueOf(trust),
    publicJwks: live.map((r) => ({ ...(r.publicJwk as JWK), kid: r.kid, alg: JWS_ALG, use: 'sig' })),
  };
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
