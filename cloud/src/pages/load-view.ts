import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { nodes, nodeStatus, siteRevisions, sites } from '../db/schema.ts';
import { Site } from '#shared/site/site.ts';
import { NodeStatus } from '#shared/wire/status.ts';
import { buildStatusView, type SiteStatusView } from './status-view.ts';

/** Reads a site's current revision, its nodes and their last status, and builds the page view. */
export async function loadStatusView(db: Db, siteName: string, now = new Date()): Promise<SiteStatusView | null> {
  const [site] = await db.select().from(sites).where(eq(sites.name, siteName)).limit(1);
  if (!site || site.currentRevision === 0) return null;
  const [rev] = await db
    .select()
    .from(siteRevisions)
    .where(and(eq(siteRevisions.siteId, site.id), eq(siteRevisions.revision, site.currentRevision)));
  const spec = rev ? Site.safeParse(rev.spec) : null;
  if (!spec?.success) return null;
  const nodeRows = await db
    .select()
    .from(nodes)
    .where(and(eq(nodes.siteId, site.id), isNull(nodes.removedAt)));
  const ids = nodeRows.map((n) => n.id);
  const statusRows = ids.length ? await db.select().from(nodeStatus).where(inArray(nodeStatus.nodeId, ids)) : [];
  const statusOf = new Map(statusRows.map((s) => [s.nodeId, s]));
  const reports = nodeRows.map((n) => {
    const row = statusOf.get(n.id);
    const parsed = row ? NodeStatus.safeParse({ ...(row.status as object), nodeId: n.id, online: row.online }) : null;
    return { name: n.name, role: n.role, desiredRevision: n.desiredRevision, status: parsed?.success ? parsed.data : null };
  });
  return buildStatusView(spec.data, site.currentRevision, reports, now);
}
