import { CompactSign, importJWK } from 'jose';
import type { Db } from '../db/client.ts';
import { signingKeys } from '../db/schema.ts';
import { audit } from '../sites/audit.ts';
import { DomainError } from '../sites/errors.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import { JWS_ALG } from '#shared/wire/desired.ts';
import { JWS_KEY_TYP, type KeyCertificate } from '#shared/wire/key-trust.ts';
import { readKeyRows } from './key-store.ts';
import { decideRotate, generationOf } from './rotation.ts';
import { makeKey } from './signing.ts';
import { openJwk, sealJwk } from './sealed-jwk.ts';

/**
 * `lvsfleet keys rotate`: makes a key, has the active key sign its certificate, and stores it
 * `announced` with the next generation, so the next documents announce it under the current key
 * (TUF: a new key is trusted only through the old one). Nothing is signed with it yet.
 */
export async function rotateKey(
  db: Db,
  who: { orgId: string; actor: string },
  now: Date,
  keySecret?: string,
): Promise<{ kid: string; previous: string; generation: number }> {
  const made = await makeKey();
  return db.transaction(async (tx) => {
    const rows = await readKeyRows(tx);
    const decision = decideRotate(rows);
    if (!decision.ok) throw new DomainError('rotation_in_progress', decision.message, undefined, { reason: decision.reason });
    const previous = rows.find((r) => r.kid === decision.previous)!;
    const cert: KeyCertificate = { previous: previous.kid, jwk: made.publicJwk, issuedAt: now.toISOString() };
    const certificate = await new CompactSign(new TextEncoder().encode(canonicalJson(cert)))
      .setProtectedHeader({ alg: JWS_ALG, kid: previous.kid, typ: JWS_KEY_TYP })
      .sign(await importJWK(await openJwk(previous.privateJwk, previous.kid, keySecret), JWS_ALG));
    const generation = generationOf(rows) + 1;
    await tx.insert(signingKeys).values({
      kid: made.kid,
      alg: JWS_ALG,
      publicJwk: made.publicJwk,
      privateJwk: await sealJwk(made.privateJwk, made.kid, keySecret),
      state: 'announced',
      generation,
      previousKid: previous.kid,
      certificate,
      createdAt: now,
    });
    await audit(tx, { orgId: who.orgId, actor: who.actor, action: 'keys.rotate', target: made.kid, detail: { previous: previous.kid, generation } });
    return { kid: made.kid, previous: previous.kid, generation };
  });
}
