import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { DesiredClaims, formatVersion, isNewer, JWS_ALG, JWS_TYP, versionOf, type DocumentVersion } from '#shared/wire/desired.ts';
import { nodeIdOf } from '#shared/wire/topics.ts';

export type RejectWhy = 'signature' | 'replay' | 'schema' | 'node' | 'key';

export type VerifyResult = { ok: true; claims: DesiredClaims } | { ok: false; why: RejectWhy; detail: string; revision?: number };

export interface VerifyExpect {
  nodeId: string;
  /**
   * Newest document version already accepted (revision, then override generation); anything not
   * newer is a replay. null = none yet.
   */
  accepted: DocumentVersion | null;
}

const MAX_JWS_BYTES = 4 * 1024 * 1024;

/**
 * Verifies a desired-state JWS: key id pinned at enrollment, EdDSA signature, DesiredClaims
 * schema, addressed to this node, (revision, overridesVersion) newer than the one accepted: a
 * document for the same revision with a newer override generation is accepted, an older or equal
 * one is a replay. Nothing here trusts the
 * payload before the signature checks out.
 */
export async function verifyDesired(jws: string, keys: JWK[], expect: VerifyExpect): Promise<VerifyResult> {
  if (typeof jws !== 'string' || jws.length > MAX_JWS_BYTES || jws.split('.').length !== 3) return { ok: false, why: 'schema', detail: 'not a compact JWS' };
  let header;
  try {
    header = decodeProtectedHeader(jws);
  } catch (e) {
    return { ok: false, why: 'schema', detail: `bad JWS header: ${(e as Error).message}` };
  }
  if (header.alg !== JWS_ALG) return { ok: false, why: 'signature', detail: `alg ${String(header.alg)} is not ${JWS_ALG}` };
  if (header.typ !== undefined && header.typ !== JWS_TYP) return { ok: false, why: 'schema', detail: `typ ${String(header.typ)} is not ${JWS_TYP}` };
  const jwk = keys.find((k) => k.kid !== undefined && k.kid === header.kid);
  if (!jwk) return { ok: false, why: 'key', detail: `unknown key id ${JSON.stringify(header.kid ?? null)}` };
  let payload: Uint8Array;
  try {
    const key = await importJWK(jwk, JWS_ALG);
    ({ payload } = await compactVerify(jws, key, { algorithms: [JWS_ALG] }));
  } catch (e) {
    return { ok: false, why: 'signature', detail: `signature does not verify with key ${header.kid}: ${(e as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return { ok: false, why: 'schema', detail: 'payload is not JSON' };
  }
  const parsed = DesiredClaims.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    const rev = (json as { revision?: unknown })?.revision;
    return {
      ok: false,
      why: 'schema',
      detail: `${i.path.join('.') || '(root)'}: ${i.message}`,
      ...(Number.isSafeInteger(rev) ? { revision: rev as number } : {}),
    };
  }
  const c = parsed.data;
  if (c.nodeId !== expect.nodeId) return { ok: false, why: 'node', detail: `document is for ${c.nodeId}, this node is ${expect.nodeId}`, revision: c.revision };
  if (nodeIdOf(c.config.site, c.config.node.name) !== c.nodeId)
    return { ok: false, why: 'node', detail: `config is for ${c.config.site}.${c.config.node.name}, claims say ${c.nodeId}`, revision: c.revision };
  const a = expect.accepted;
  if (a !== null && !isNewer(versionOf(c), a)) {
    return { ok: false, why: 'replay', detail: `${formatVersion(versionOf(c))} is not newer than accepted ${formatVersion(a)}`, revision: c.revision };
  }
  return { ok: true, claims: c };
}
