import { and, eq, gt, isNull } from 'drizzle-orm';
import { nodeIdOf } from '#shared/wire/topics.ts';
import { DomainError, notFound } from './errors.ts';
import { randomSecret, sha256Hex } from '../auth/tokens.ts';
import type { Db } from '../db/client.ts';
import { enrollmentTokens, events, nodeCredentials, nodes, sites } from '../db/schema.ts';
import { audit } from './audit.ts';
import type { SiteRow } from './queries.ts';

const DEFAULT_ENROLLMENT_TTL_MS = 60 * 60 * 1000;

/** When the node's current broker credentials were issued, or null when it was never enrolled. */
async function enrolledAt(db: Db, nodeId: string): Promise<Date | null> {
  const [row] = await db.select({ at: nodeCredentials.enrolledAt }).from(nodeCredentials).where(eq(nodeCredentials.nodeId, nodeId));
  return row?.at ?? null;
}

/**
 * Makes a one-time enrollment token for a live node of the site. Only its SHA-256 is kept;
 * the token itself is answered once. For a node that is already enrolled, `replace` must say so:
 * using the token gives the node new credentials and shuts out the agent that runs now, which is
 * a takeover when it was not meant.
 */
export async function createEnrollmentToken(
  db: Db,
  opts: { orgId: string; site: SiteRow; node: string; actor: string; ttlMs?: number; now?: Date; replace?: boolean },
): Promise<{ token: string; expiresAt: string }> {
  const [node] = await db
    .select({ id: nodes.id })
    .from(nodes)
    .where(and(eq(nodes.siteId, opts.site.id), eq(nodes.name, opts.node), isNull(nodes.removedAt)));
  if (!node) throw notFound(`node "${opts.node}" of site "${opts.site.name}"`);
  const nodeId = nodeIdOf(opts.site.name, opts.node);
  const replacing = (await enrolledAt(db, nodeId)) !== null;
  if (replacing && !opts.replace)
    throw new DomainError(
      'already_enrolled',
      `node ${nodeId} is already enrolled; a new token replaces its credentials and disconnects the agent running there: pass --replace ("replace": true) if that is meant`,
    );
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
      target: nodeId,
      site: opts.site.name,
      detail: { expiresAt: expiresAt.toISOString(), replace: replacing },
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
 * A node enrolled since the token was made refuses it (the token was not made with `replace`
 * for that enrollment); a token made for an enrolled node re-enrolls it, audited as
 * `node.reenroll` and raised as the `node.reenrolled` event.
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
      .returning({
        siteId: enrollmentTokens.siteId,
        node: enrollmentTokens.nodeName,
        createdAt: enrollmentTokens.createdAt,
        createdBy: enrollmentTokens.createdBy,
      });
    if (!spent.length) throw invalid();
    const [row] = await tx
      .select({ orgId: sites.orgId, site: sites.name, removedAt: nodes.removedAt })
      .from(sites)
      .innerJoin(nodes, and(eq(nodes.siteId, sites.id), eq(nodes.name, spent[0].node)))
      .where(eq(sites.id, spent[0].siteId));
    if (!row || row.removedAt) throw invalid();
    const nodeId = nodeIdOf(row.site, spent[0].node);
    const previous = await enrolledAt(tx, nodeId);
    if (previous && previous >= spent[0].createdAt)
      throw new DomainError('already_enrolled', `node ${nodeId} was enrolled after this token was made; make a new one with --replace if it is meant`);
    await audit(tx, { orgId: row.orgId, actor: `node:${nodeId}`, action: previous ? 'node.reenroll' : 'node.enroll', target: nodeId, site: row.site });
    if (previous) {
      const data = { previouslyEnrolledAt: previous.toISOString(), tokenBy: spent[0].createdBy };
      await tx.insert(events).values({ siteId: spent[0].siteId, nodeId, type: 'node.reenrolled', data, at: now });
    }
    const who: Redeemed = { orgId: row.orgId, site: row.site, node: spent[0].node, nodeId };
    // Credentials are issued in the same transaction: if that fails the token stays unspent.
    return { ...who, result: await within(tx as unknown as Db, who) };
  });
}
