import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { nodeCredentials, nodes, nodeStatus, signingKeys } from '../db/schema.ts';
import { TrustReport } from '#shared/wire/key-trust.ts';
import { generationOf, type KeyRow, type NodeKeys, type RotationStep } from './rotation.ts';

/** The `signing_keys` queries of rotation (same SQL on PGlite and PostgreSQL). */

/** Every key, private JWK included (for the signer; never answered by the API). */
export async function readKeyRows(db: Pick<Db, 'select'>): Promise<(KeyRow & { privateJwk: unknown })[]> {
  const rows = await db.select().from(signingKeys);
  return rows.map((r) => ({
    kid: r.kid,
    // A row retired before rotation had states carries only retired_at.
    state: r.retiredAt ? 'retired' : r.state,
    // Only the public members: what agents pin, whatever else the stored JWK holds.
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x: String((r.publicJwk as { x?: unknown }).x ?? ''), kid: r.kid },
    generation: r.generation,
    previousKid: r.previousKid,
    certificate: r.certificate,
    createdAt: r.createdAt,
    privateJwk: r.privateJwk,
  }));
}

/**
 * Every enrolled node that is still in its site, with the keys it last reported pinned (kept by
 * ingest in `node_status`, also across its last will) and whether its report is fresh.
 */
export async function readNodeKeys(db: Db, now: Date, staleAfterMs: number): Promise<NodeKeys[]> {
  const rows = await db
    // Only the report's `trust` member: a director's whole report lists every real server (1.3 MB
    // of JSON at 10,000 nodes), and this reads every enrolled node's.
    .select({ nodeId: nodes.id, online: nodeStatus.online, updatedAt: nodeStatus.updatedAt, trust: sql<unknown>`${nodeStatus.status} -> 'trust'` })
    .from(nodes)
    .innerJoin(nodeCredentials, eq(nodeCredentials.nodeId, nodes.id))
    .leftJoin(nodeStatus, eq(nodeStatus.nodeId, nodes.id))
    .where(isNull(nodes.removedAt));
  return rows.map((r) => {
    const report = TrustReport.safeParse(r.trust);
    return {
      nodeId: r.nodeId,
      online: !!r.online && !!r.updatedAt && now.getTime() - r.updatedAt.getTime() <= staleAfterMs,
      kids: new Set(report.success ? report.data.kids : []),
    };
  });
}

/** Applies one rotation step in a transaction; every changed row takes the next generation. Answers whether anything changed. */
export async function applyRotationStep(db: Db, step: RotationStep, now: Date): Promise<boolean> {
  if (!step.promote && !step.retire.length) return false;
  return db.transaction(async (tx) => {
    const next = generationOf(await tx.select({ generation: signingKeys.generation }).from(signingKeys).for('update')) + 1;
    let changed = 0;
    if (step.promote) {
      const promoted = await tx
        .update(signingKeys)
        .set({ state: 'active', activatedAt: now, generation: next })
        .where(and(eq(signingKeys.kid, step.promote), eq(signingKeys.state, 'announced')))
        .returning({ kid: signingKeys.kid });
      if (promoted.length) {
        changed++;
        await tx
          .update(signingKeys)
          .set({ state: 'retiring', generation: next })
          .where(and(eq(signingKeys.state, 'active'), sql`${signingKeys.kid} <> ${step.promote}`));
      }
    }
    if (step.retire.length) {
      const retired = await tx
        .update(signingKeys)
        .set({ state: 'retired', retiredAt: now, generation: next })
        .where(and(inArray(signingKeys.kid, step.retire), eq(signingKeys.state, 'retiring')))
        .returning({ kid: signingKeys.kid });
      changed += retired.length;
    }
    return changed > 0;
  });
}
