import type { JWK } from 'jose';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import { formatVersion, isNewer, JWS_ALG, JWS_TYP, MAX_DOCUMENT_BYTES, versionOf, type DesiredClaims, type DocumentVersion } from '#shared/wire/desired.ts';
import type * as ClaimsModule from '#shared/wire/desired-claims.ts';
import type { KeyTrust } from '#shared/wire/key-trust.ts';
import { nodeIdOf } from '#shared/wire/topics.ts';
import { turnOfTheLoop } from '../event-loop.ts';
import { jwsHeader, OFF_LOOP_JWS_CHARS, verifyCompact } from './compact-jws.ts';
import { verificationKeys } from './key-cache.ts';
import { keysThroughChain, unverifiedChain } from './key-chain.ts';

export type RejectWhy = 'signature' | 'replay' | 'schema' | 'node' | 'key';

/**
 * Why a document's revision is taken or refused, against what the intake accepted before:
 * - `first`: nothing accepted yet; `newer`: a revision above the accepted one — apply it;
 * - `resigned`: the accepted revision again, with the same claims apart from the key set, and a
 *   newer key set (a key announced, made active or retired): pin the keys, apply nothing;
 * - `older`: a revision below the accepted one — a replay;
 * - `same-keys`: the accepted revision, different bytes, no newer key set — a replay: it brings nothing;
 * - `other-claims`: the accepted revision with other claims — refused: one revision has one content.
 */
type RevisionRule = 'first' | 'newer' | 'resigned';
type ReplayRule = 'older' | 'same-keys' | 'other-claims';
export type RevisionVerdict = { ok: true; rule: RevisionRule } | { ok: false; rule: ReplayRule; detail: string };

export type VerifyResult =
  | {
      ok: true;
      claims: DesiredClaims;
      rule: RevisionRule;
      /** The key that signed it. */
      kid: string;
      /** The document's key set when it is newer than the pinned one: what to pin now. */
      pin: KeyTrust | null;
    }
  | { ok: false; why: RejectWhy; detail: string; revision?: number; rule?: ReplayRule };

export interface VerifyExpect {
  nodeId: string;
  /**
   * Newest document version already accepted (revision, then override generation); anything not
   * newer is a replay, except a re-signed copy of it (`judgeRevision`). null = none yet.
   */
  accepted: DocumentVersion | null;
  /**
   * The claims of the accepted revision (the cached document), to tell a re-signed copy from
   * another document. Checked by this build's schema (at receipt, or at boot), so a service equal to
   * one of theirs is not checked again.
   */
  acceptedClaims?: DesiredClaims | null;
  /** Generation of the pinned key set; 0 for the keys pinned at enrollment. */
  pinnedGeneration?: number;
  /**
   * This very build's schema took these claims before (the cache says so: `Intake.boot`): once the
   * signature shows the payload is the one signed, its claims are used as read, without the schema
   * check again. Sound because the wire schema changes nothing it parses (its output is its input;
   * `shared/wire/schemas.test.ts`). Everything else is still checked: key, signature, node, key
   * set, replay rule.
   */
  schemaChecked?: boolean;
}

/**
 * The claims' schema module, loaded by the first document whose schema is checked. A start from a cache
 * this build checked checks none, and building the node config's schemas at import was about a
 * sixth of the agent's module loading at every start. The promise is kept: each `import()` of a
 * loaded module still asks the module loader again (5-7 µs of CPU here, and 140-180 µs where
 * loader hooks run on their own thread, as tsx's do for the benchmarks' agents).
 */
let schemaLoad: Promise<typeof ClaimsModule> | undefined;
const claimsModule = () =>
  (schemaLoad ??= import('#shared/wire/desired-claims.ts').then(
    (m) => m,
    (e: unknown) => {
      // Not kept when it failed (a chunk replaced under a running agent): the next document tries again.
      schemaLoad = undefined;
      throw e;
    },
  ));

/** The claims that make a revision: everything but the key set, which a rotation re-signs. */
const content = (c: DesiredClaims) => canonicalJson({ ...c, trust: undefined });

/**
 * The replay rule of the intake, pure (docs/architecture.md, "Key rotation"): a document version
 * (revision, then override generation) newer than the accepted one is taken — so a document for the
 * same revision with newer overrides supersedes the older one; the accepted version is taken again
 * only as a re-signed copy —
 * identical claims apart from `trust`, and a key set newer than the pinned one — so a rotation
 * can re-sign the revision a node runs without it reading as a replay, while a stale copy (an
 * older key set, or the same one in other bytes) still is one.
 */
export function judgeRevision(c: DesiredClaims, expect: VerifyExpect): RevisionVerdict {
  const a = expect.accepted;
  if (a === null) return { ok: true, rule: 'first' };
  const v = versionOf(c);
  if (isNewer(v, a)) return { ok: true, rule: 'newer' };
  if (isNewer(a, v)) return { ok: false, rule: 'older', detail: `${formatVersion(v)} is older than accepted ${formatVersion(a)}` };
  if (
    !expect.acceptedClaims ||
    isNewer(a, versionOf(expect.acceptedClaims)) ||
    isNewer(versionOf(expect.acceptedClaims), a) ||
    content(expect.acceptedClaims) !== content(c)
  )
    return { ok: false, rule: 'other-claims', detail: `${formatVersion(v)} is already accepted with other claims` };
  const pinned = expect.pinnedGeneration ?? 0;
  if (!c.trust || c.trust.generation <= pinned)
    return { ok: false, rule: 'same-keys', detail: `revision ${c.revision} is already accepted and brings no key set newer than generation ${pinned}` };
  return { ok: true, rule: 'resigned' };
}

/**
 * Verifies a desired-state JWS: a key id pinned (or certified by a pinned key through the
 * document's chain), EdDSA signature, DesiredClaims schema, addressed to this node, signed by the
 * key its own key set names active, and a revision the replay rule takes (`judgeRevision`).
 * Nothing here trusts the payload before the signature checks out.
 */
export async function verifyDesired(jws: string, keys: JWK[], expect: VerifyExpect): Promise<VerifyResult> {
  if (typeof jws !== 'string') return { ok: false, why: 'schema', detail: 'not a compact JWS' };
  // Bounded before anything reads it; a JWS is ASCII, so its length is its size in bytes.
  if (jws.length > MAX_DOCUMENT_BYTES)
    return { ok: false, why: 'schema', detail: `a document of ${jws.length} bytes, over the ${MAX_DOCUMENT_BYTES} an agent takes` };
  if (jws.split('.').length !== 3) return { ok: false, why: 'schema', detail: 'not a compact JWS' };
  let header;
  try {
    header = jwsHeader(jws);
  } catch (e) {
    return { ok: false, why: 'schema', detail: `bad JWS header: ${(e as Error).message}` };
  }
  if (header.alg !== JWS_ALG) return { ok: false, why: 'signature', detail: `alg ${String(header.alg)} is not ${JWS_ALG}` };
  if (header.typ !== undefined && header.typ !== JWS_TYP) return { ok: false, why: 'schema', detail: `typ ${String(header.typ)} is not ${JWS_TYP}` };
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  const known = (set: JWK[]) => set.find((k) => k.kid !== undefined && k.kid === kid);
  // A key missed while offline: only a chain of certificates from a pinned key can vouch for it.
  const jwk = known(keys) ?? (kid !== undefined ? known(await keysThroughChain(keys, unverifiedChain(jws))) : undefined);
  if (!jwk || kid === undefined) return { ok: false, why: 'key', detail: `unknown key id ${JSON.stringify(kid ?? null)}` };
  let payload: Buffer;
  try {
    payload = await verifyCompact(jws, await verificationKeys.import(jwk));
  } catch (e) {
    return { ok: false, why: 'signature', detail: `signature does not verify with key ${kid}: ${(e as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, why: 'schema', detail: 'payload is not JSON' };
  }
  // A large document's parse, its schema check and what the caller does next (14-17, 33-44 and
  // 8 ms for a 10,000-node site's 4.7 MB director document: the intake writes it to its cache) are
  // runs of the event loop of their own, so VRRP adverts and BFD packets go between them; the
  // schema check itself goes in steps of about 8 ms, a service at a time.
  const large = jws.length > OFF_LOOP_JWS_CHARS;
  if (large) await turnOfTheLoop();
  // The accepted document's services were checked by this build's schema: a service equal to one of
  // them needs no check again (checkClaimsInSteps says why).
  const checkedServices = expect.acceptedClaims?.config.services ?? [];
  const parsed = expect.schemaChecked
    ? ({ success: true, data: json as DesiredClaims } as const)
    : large || checkedServices.length
      ? // A small document's check is one step (no turn of the loop), as safeParse's would be.
        await (await claimsModule()).checkClaimsInSteps(json, turnOfTheLoop, large ? 8 : Infinity, checkedServices)
      : (await claimsModule()).DesiredClaims.safeParse(json);
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
  if (large) await turnOfTheLoop();
  const c = parsed.data;
  if (c.nodeId !== expect.nodeId) return { ok: false, why: 'node', detail: `document is for ${c.nodeId}, this node is ${expect.nodeId}`, revision: c.revision };
  if (nodeIdOf(c.config.site, c.config.node.name) !== c.nodeId)
    return { ok: false, why: 'node', detail: `config is for ${c.config.site}.${c.config.node.name}, claims say ${c.nodeId}`, revision: c.revision };
  if (c.trust && !c.trust.keys.some((k) => k.state === 'active' && k.jwk.kid === kid))
    return { ok: false, why: 'key', detail: `signed by key ${kid}, which the document's key set does not name active`, revision: c.revision };
  const verdict = judgeRevision(c, expect);
  if (!verdict.ok) return { ok: false, why: 'replay', detail: verdict.detail, revision: c.revision, rule: verdict.rule };
  const pin = c.trust && c.trust.generation > (expect.pinnedGeneration ?? 0) ? c.trust : null;
  return { ok: true, claims: c, rule: verdict.rule, kid, pin };
}
