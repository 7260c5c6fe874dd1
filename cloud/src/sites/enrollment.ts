import { and, eq, gt, isNull } from 'drizzle-orm';
import { nodeIdOf } from '#shared/wire/topics.ts';
import { DomainError, notFound } from './errors.ts';
import { randomSecret, sha256Hex } from '../auth/tokens.ts';
import type { Db } from '../db/client.ts';
import { enrollmentTokens, nodes, sites } from '../db/schema.ts';
import { audit } from './audit.ts';
import type { SiteRow } from './queries.ts';

export const DEFAULT_ENROLLMENT_TTL_MS = 60 * 60 * 1000;

/**
 * Makes a one-time enrollment token for a live node of the site. Only its SHA-256 is kept;
 * the token itself is answered once.
 */
export async function createEnrollmentToken(
  db: Db,
  opts: { orgId: string; site: SiteRow; node: string; actor: string; ttlMs?: number; now?: Date },
): Promise<{ token: string; expiresAt: string }> {
  const [node] = await db
    .select({ id: nodes.id })
    .from(nodes)
    .where(and(eq(nodes.siteId, opts.site.id), eq(nodes.name, opts.node), isNull(nodes.removedAt)));
  if (!node) throw notFound(`node "${opts.node}" of site "${opts.site.name}"`);
  const token = randomSecret('lve_');
  const expiresAt = new Date((opts.now ?? new Date()).getTime() + (opts.ttlMs ?? DEFAULT_ENROLLMENT_TTL_MS));
  await db.transaction(async (tx) => {
    await tx
      .insert(enrollmentTokens)
      .values({ tokenHash: await sha256Hex(token), siteId: opts.site.id, nodeName: opts.node, createdBy: opts.actor, expiresAt });
    await audit(tx, {
      orgId: opts.orgId,
      actor: opts.actor,
      action: 'enrollment.create',
      target: nodeIdOf(opts.site.name, opts.node),
      detail: { expiresAt: expiresAt.toISOString() },
    });
  });
  return { token, expiresAt: expiresAt.toISOString() };
}

export interface Redeemed {
  orgId: string;
  site: string;
  node: string;
  nodeId: string;
}

const invalid = () => new DomainError('invalid_token', 'enrollment token is unknown, used or expired');

/**
 * Spends an enrollment token: marks it used (atomically, so it works exactly once) and answers
 * the node it was made for, after running `within` in the same transaction. Unknown, used and expired tokens are all one invalid_token refusal.
 */
export async function redeemEnrollmentToken<T>(
  db: Db,
  token: string,
  within: (tx: Db, who: Redeemed) => Promise<T>,
  now = new Date(),
): Promise<Redeemed & { result: T }> {
  const hash = await sha256Hex(token);
  return db.transaction(async (tx) => {
    const spent = await tx
      .update(enrollmentTokens)
      .set({ usedAt: now })
      .where(and(eq(enrollmentTokens.tokenHash, hash), isNull(enrollmentTokens.usedAt), gt(enrollmentTokens.expiresAt, now)))
      .returning({ siteId: enrollmentTokens.siteId, node: enrollmentTokens.nodeName });
    if (!spent.length) throw invalid();
    const [row] = await tx
      .select({ orgId: sites.orgId, site: sites.name, removedAt: nodes.removedAt })
      .from(sites)
      .innerJoin(nodes, and(eq(nodes.siteId, sites.id), eq(nodes.name, spent[0].node)))
      .where(eq(sites.id, spent[0].siteId));
    if (!row || row.removedAt) throw invalid();
    const nodeId = nodeIdOf(row.site, spent[0].node);
    await audit(tx, { orgId: row.orgId, actor: `node:${nodeId}`, action: 'node.enroll', target: nodeId });
    const who: Redeemed = { orgId: row.orgId, site: row.site, node: spent[0].node, nodeId };
    // Credentials are issued in the same transaction: if that fails the token stays unspent.
    return { ...who, result: await within(tx as unknown as Db, who) };
  });
}
