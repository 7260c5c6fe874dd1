import { verify, type KeyObject } from 'node:crypto';
import { JWS_ALG } from '#shared/wire/desired.ts';
import { signingInputWriter } from '#shared/wire/signing-input.ts';

/**
 * RFC 7515 compact serialization, verified for the one algorithm the cloud signs with: EdDSA over
 * Ed25519 (RFC 8037 §3.1), by node:crypto's one-shot `verify`, with Node's native base64url. jose's
 * compactVerify decodes through atob and a loop per byte: 11 ms of a 1,000-service director's start
 * for its 650 KB payload, against under 1 ms here. WebCrypto's `verify` runs the same check as a
 * job (a promise, and a hop to libuv's pool and back): a 2.3 KB signing input 115 µs of CPU against
 * the one-shot call's 79, a 467 KB one 680 µs against 570.
 *
 * Never looser than jose, stricter where the cloud never needs more:
 * - every part is unpadded base64url and nothing else (RFC 7515 §2, §7.1), checked before decoding
 *   (Node's decoder would skip a stray character);
 * - the header is a JSON object whose `alg` is EdDSA;
 * - a header with `crit` is refused (§4.1.11): the cloud signs with no extension, so none is
 *   understood, RFC 7797's unencoded payload (`b64`) among them.
 */

export type JwsRefusal = 'format' | 'header' | 'signature';

export class JwsError extends Error {
  constructor(
    readonly code: JwsRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'JwsError';
  }
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** The bytes of one unpadded base64url part; throws naming the part. */
function decodePart(text: string, part: string): Buffer {
  // A length of 4k+1 characters encodes no whole number of bytes.
  if (!BASE64URL.test(text) || text.length % 4 === 1) throw new JwsError('format', `${part} is not base64url`);
  return Buffer.from(text, 'base64url');
}

/** The three parts of a compact JWS, not yet checked. */
function split(jws: string): [string, string, string] {
  const parts = jws.split('.');
  if (parts.length !== 3) throw new JwsError('format', 'not a compact JWS (three parts)');
  return parts as [string, string, string];
}

/** The protected header as a JSON object, unverified (for picking the key); throws JwsError. */
export function jwsHeader(jws: string): Record<string, unknown> {
  return headerOf(split(jws)[0]);
}

function headerOf(h: string): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(decodePart(h, 'header').toString('utf8'));
  } catch (e) {
    throw e instanceof JwsError ? e : new JwsError('header', 'header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new JwsError('header', 'header is not a JSON object');
  return header as Record<string, unknown>;
}

/**
 * The signing input's bytes, in one buffer kept for the next document (the synchronous `verify`
 * is done with it when it returns, and the job copies it). Both parts were checked to be base64url before.
 */
const signingInput = signingInputWriter();

/**
 * Above this many characters a JWS's signature is checked on libuv's pool, not on the event loop,
 * and the intake gives the loop a turn between its steps (verify.ts). Ed25519 hashes the whole
 * signing input: 18 ms for a 10,000-node site's 4.7 MB director document, time in which the loop
 * would send no VRRP advert or BFD packet. Below it the one-shot call is the cheaper (a 2.3 KB
 * input 79 µs of CPU against a job's 115), and a whole intake holds the loop for about 15 ms at
 * most (a 1,000-node site's 0.47 MB director document: about 9).
 */
export const OFF_LOOP_JWS_CHARS = 1024 * 1024;

/** Node's `verify` as a job on libuv's pool. The job copies its inputs when it is made, so the kept signing-input buffer may be written again at once. */
function verifyOffLoop(data: Uint8Array, key: KeyObject, signature: Buffer): Promise<boolean> {
  return new Promise((resolve, reject) => verify(null, data, key, signature, (err, ok) => (err ? reject(err) : resolve(ok))));
}

/**
 * The payload's bytes once the signature verifies with `key` (an Ed25519 public key); throws
 * JwsError otherwise. The signing input is the ASCII text `header.payload` (RFC 7515 §5.2). The
 * check is synchronous up to OFF_LOOP_JWS_CHARS (about 2 ms for a 1,000-node site's director
 * document) and a job beyond; a refusal is still a rejection.
 */
export async function verifyCompact(jws: string, key: KeyObject): Promise<Buffer> {
  const [h, p, s] = split(jws);
  const header = headerOf(h);
  if (header.alg !== JWS_ALG) throw new JwsError('header', `alg ${JSON.stringify(header.alg ?? null)} is not ${JWS_ALG}`);
  if ('crit' in header) throw new JwsError('header', 'crit names an extension this agent does not implement');
  const payload = decodePart(p, 'payload');
  const signature = decodePart(s, 'signature');
  // By kind, before verify(): given a private key, it would verify with the key's public half.
  if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519')
    throw new JwsError('signature', `the key is not an Ed25519 public key (${key.asymmetricKeyType ?? 'symmetric'}, ${key.type})`);
  let ok: boolean;
  try {
    const input = signingInput(h, p);
    ok = jws.length > OFF_LOOP_JWS_CHARS ? await verifyOffLoop(input, key, signature) : verify(null, input, key, signature);
  } catch (e) {
    throw new JwsError('signature', (e as Error).message);
  }
  if (!ok) throw new JwsError('signature', 'signature verification failed');
  return payload;
}
