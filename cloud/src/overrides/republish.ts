import { and, desc, eq, isNull } from 'drizzle-orm';
import { concerns } from '#shared/overrides/layer.ts';
import type { Override } from '#shared/overrides/override.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import type { DesiredClaims } from '#shared/wire/desired.ts';
import type { Db } from '../db/client.ts';
import { nodes, outbox } from '../db/schema.ts';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** The overrides of `active` a node's document carries: those that change something there. */
export const overridesFor = (claims: Pick<DesiredClaims, 'config'>, active: readonly Override[]): Override[] =>
  active.filter((o) => concerns(claims.config, o));

/**
 * After the site's overrides changed (generation `version`): one outbox row per live node whose
 * set of concerning overrides differs from what its newest document carries, with the same
 * revision and config (a forced apply's permission included) and the new generation, so the
 * publisher sends it and the agent takes it as newer. Answers the nodes that get one.
 */
export async function republishOverrides(tx: Tx, siteId: string, version: number, active: readonly Override[], now: Date): Promise<string[]> {
  const live = await tx
    .select({ id: nodes.id })
    .from(nodes)
    .where(and(eq(nodes.siteId, siteId), isNull(nodes.removedAt)));
  const ids = new Set(live.map((n) => n.id));
  // Every node's newest row, published or not: its claims are what the node runs or is about to.
  const newest = await tx
    .selectDistinctOn([outbox.nodeId], { nodeId: outbox.nodeId, revision: outbox.revision, claims: outbox.claims })
    .from(outbox)
    .where(eq(outbox.siteId, siteId))
    .orderBy(outbox.nodeId, desc(outbox.revision), desc(outbox.overridesVersion), desc(outbox.id));
  const rows: (typeof outbox.$inferInsert)[] = [];
  for (const r of newest) {
    if (!ids.has(r.nodeId)) continue;
    const claims = r.claims as DesiredClaims;
    const mine = overridesFor(claims, active);
    if (canonicalJson(mine) === canonicalJson(claims.overrides ?? [])) continue;
    const next: DesiredClaims = { ...claims, issuedAt: now.toISOString(), overridesVersion: version, overrides: mine };
    // Due at the column's default, the database's now(), as an apply's rows are: the publisher reads due on that clock.
    rows.push({ nodeId: r.nodeId, siteId, revision: r.revision, overridesVersion: version, claims: next });
  }
  if (rows.length) await tx.insert(outbox).values(rows);
  return rows.map((r) => r.nodeId);
}
