import { and, eq, inArray, isNull, ne } from 'drizzle-orm';
import type { NodeInput, StatusInput } from '#shared/status/evaluate.ts';
import { Site } from '#shared/site/site.ts';
import { NodeStatus } from '#shared/wire/status.ts';
import type { Db } from '../db/client.ts';
import { activeOverrides } from '../overrides/active.ts';
import { nodes, nodeStatus, outbox, siteRevisions } from '../db/schema.ts';

export interface SiteRef {
  id: string;
  name: string;
  currentRevision: number;
}

/**
 * What the status model needs of one site, read from the database: the spec of the revision in
 * force, each live node's last report (`node_status`, its `updated_at` is when the cloud received
 * it) and the revision published to it. Null when the site has no valid revision.
 */
export async function loadStatusInput(db: Db, site: SiteRef, staleAfterMs: number): Promise<Omit<StatusInput, 'revisionGraceMs'> | null> {
  if (site.currentRevision === 0) return null;
  const [rev] = await db
    .select({ spec: siteRevisions.spec })
    .from(siteRevisions)
    .where(and(eq(siteRevisions.siteId, site.id), eq(siteRevisions.revision, site.currentRevision)));
  const spec = rev ? Site.safeParse(rev.spec) : null;
  if (!spec?.success) return null;
  const nodeRows = await db
    .select({ id: nodes.id, name: nodes.name, desiredRevision: nodes.desiredRevision })
    .from(nodes)
    .where(and(eq(nodes.siteId, site.id), isNull(nodes.removedAt)));
  const ids = nodeRows.map((n) => n.id);
  const statusRows = ids.length ? await db.select().from(nodeStatus).where(inArray(nodeStatus.nodeId, ids)) : [];
  // When each node's desired revision went out (or was queued, while the broker is away); a
  // document held for its rollout stage was not sent, so the node is not late for it yet.
  const sent = ids.length
    ? await db
        .select({ nodeId: outbox.nodeId, publishedAt: outbox.publishedAt, createdAt: outbox.createdAt })
        .from(outbox)
        .innerJoin(nodes, and(eq(nodes.id, outbox.nodeId), eq(nodes.desiredRevision, outbox.revision)))
        .where(and(eq(outbox.siteId, site.id), ne(outbox.status, 'held')))
    : [];
  const statusOf = new Map(statusRows.map((s) => [s.nodeId, s]));
  const sentAt = new Map<string, number>();
  for (const s of sent) sentAt.set(s.nodeId, Math.min(sentAt.get(s.nodeId) ?? Infinity, (s.publishedAt ?? s.createdAt).getTime()));
  const inputs: Record<string, NodeInput> = {};
  for (const n of nodeRows) {
    const row = statusOf.get(n.id);
    const parsed = row ? NodeStatus.safeParse({ ...(row.status as object), nodeId: n.id, online: row.online }) : null;
    const at = sentAt.get(n.id);
    inputs[n.name] = {
      status: parsed?.success ? parsed.data : null,
      online: row?.online ?? false,
      receivedAt: row ? row.updatedAt.getTime() : null,
      desired: n.desiredRevision > 0 && at !== undefined ? { revision: n.desiredRevision, at } : null,
    };
  }
  return { site: spec.data, nodes: inputs, staleAfterMs, overrides: await activeOverrides(db, site.id, new Date()) };
}
