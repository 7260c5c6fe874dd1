import { and, asc, desc, eq, isNull } from 'drizzle-orm';
import type { Site } from '#shared/site/site.ts';
import { notFound } from './errors.ts';
import type { Db } from '../db/client.ts';
import { events, nodes, nodeStatus, siteRevisions, sites } from '../db/schema.ts';

export interface SiteRow {
  id: string;
  name: string;
  currentRevision: number;
  updatedAt: Date;
}

/** The site, or a not_found DomainError. */
export async function requireSite(db: Db, orgId: string, name: string): Promise<SiteRow> {
  const [row] = await db
    .select({ id: sites.id, name: sites.name, currentRevision: sites.currentRevision, updatedAt: sites.updatedAt })
    .from(sites)
    .where(and(eq(sites.orgId, orgId), eq(sites.name, name)));
  if (!row || row.currentRevision === 0) throw notFound(`site "${name}"`);
  return row;
}

export async function listSites(db: Db, orgId: string) {
  const rows = await db
    .select({ name: sites.name, revision: sites.currentRevision, updatedAt: sites.updatedAt })
    .from(sites)
    .where(eq(sites.orgId, orgId))
    .orderBy(asc(sites.name));
  const live = await db
    .select({ siteId: nodes.siteId, name: sites.name })
    .from(nodes)
    .innerJoin(sites, eq(nodes.siteId, sites.id))
    .where(and(eq(sites.orgId, orgId), isNull(nodes.removedAt)));
  const count = new Map<string, number>();
  for (const n of live) count.set(n.name, (count.get(n.name) ?? 0) + 1);
  return rows
    .filter((r) => r.revision > 0)
    .map((r) => ({ name: r.name, revision: r.revision, nodes: count.get(r.name) ?? 0, updatedAt: r.updatedAt.toISOString() }));
}

export async function getRevision(db: Db, site: SiteRow, revision: number) {
  const [row] = await db
    .select()
    .from(siteRevisions)
    .where(and(eq(siteRevisions.siteId, site.id), eq(siteRevisions.revision, revision)));
  if (!row) throw notFound(`revision ${revision} of site "${site.name}"`);
  return {
    revision: row.revision,
    author: row.author,
    message: row.message,
    rolledBackFrom: row.rolledBackFrom,
    createdAt: row.createdAt.toISOString(),
    spec: row.spec as Site,
  };
}

export async function listRevisions(db: Db, site: SiteRow) {
  const rows = await db
    .select({
      revision: siteRevisions.revision,
      author: siteRevisions.author,
      message: siteRevisions.message,
      rolledBackFrom: siteRevisions.rolledBackFrom,
      createdAt: siteRevisions.createdAt,
    })
    .from(siteRevisions)
    .where(eq(siteRevisions.siteId, site.id))
    .orderBy(desc(siteRevisions.revision));
  return rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() }));
}

/**
 * The site's live nodes by name, each with its last report's row: one statement, the reports
 * joined in. As a second statement with every node id bound (a 10,000-node site's 10,000
 * parameters) it cost drizzle and the driver a parameter object each. `status: false` leaves the
 * reports' documents out (the status route takes them validated from the status book's cache;
 * a 10,000-node site's are 3.5 MB to send, decode and parse).
 */
export async function listNodes(db: Db, site: SiteRow, opts: { status?: boolean } = {}) {
  const withStatus = opts.status ?? true;
  const rows = await db
    .select({
      id: nodes.id,
      name: nodes.name,
      role: nodes.role,
      address: nodes.address,
      desiredRevision: nodes.desiredRevision,
      reported: nodeStatus.nodeId,
      appliedRevision: nodeStatus.appliedRevision,
      online: nodeStatus.online,
      updatedAt: nodeStatus.updatedAt,
      ...(withStatus ? { status: nodeStatus.status } : {}),
    })
    .from(nodes)
    .leftJoin(nodeStatus, eq(nodeStatus.nodeId, nodes.id))
    .where(and(eq(nodes.siteId, site.id), isNull(nodes.removedAt)))
    .orderBy(asc(nodes.name));
  return rows.map((r) => {
    const reported = r.reported !== null;
    return {
      nodeId: r.id,
      name: r.name,
      role: r.role,
      address: r.address,
      desiredRevision: r.desiredRevision,
      appliedRevision: reported ? r.appliedRevision : null,
      online: reported ? r.online! : false,
      inSync: reported && r.appliedRevision === r.desiredRevision,
      lastSeen: reported ? r.updatedAt!.toISOString() : null,
      status: ((reported && r.status) || {}) as Record<string, unknown>,
    };
  });
}

export async function recentEvents(db: Db, site: SiteRow, limit = 50) {
  const rows = await db.select().from(events).where(eq(events.siteId, site.id)).orderBy(desc(events.at), desc(events.id)).limit(limit);
  return rows.map((e) => ({ nodeId: e.nodeId, type: e.type, at: e.at.toISOString(), data: e.data as Record<string, unknown> }));
}
