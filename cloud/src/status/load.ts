import { and, eq, isNull, ne } from 'drizzle-orm';
import type { NodeInput, StatusInput } from '#shared/status/evaluate.ts';
import { Site } from '#shared/site/site.ts';
import { NodeStatus } from '#shared/wire/status.ts';
import type { Db } from '../db/client.ts';
import { inJsonList } from '../db/in-json.ts';
import { activeOverrides } from '../overrides/active.ts';
import { nodes, nodeStatus, outbox, siteRevisions } from '../db/schema.ts';

export interface SiteRef {
  id: string;
  name: string;
  currentRevision: number;
}

/**
 * What `loadStatusInput` keeps between reads of a site, so that evaluating a large site every few
 * seconds (the alerter, pages, the API) does not validate its spec and every node's report again:
 * the revision's validated spec, and each live node's validated report with the `updated_at` it
 * was stored with. A report is read and validated again only when that time moved; at the agents'
 * heartbeat (every 15 s) a 2 s round reads about one report in seven. Holds only the nodes of each
 * site's last read.
 */
export class StatusInputCache {
  readonly specs = new Map<string, { revision: number; site: Site }>();
  readonly reports = new Map<string, Map<string, CachedReport>>();

  /** Drops what it holds of every site not in `live` (site ids). */
  forget(live: ReadonlySet<string>): void {
    for (const id of this.specs.keys()) if (!live.has(id)) this.specs.delete(id);
    for (const id of this.reports.keys()) if (!live.has(id)) this.reports.delete(id);
  }
}

interface CachedReport {
  updatedAt: number;
  online: boolean;
  status: NodeStatus | null;
}

/**
 * What the status model needs of one site, read from the database: the spec of the revision in
 * force, each live node's last report (`node_status`, its `updated_at` is when the cloud received
 * it) and the revision published to it. Null when the site has no valid revision.
 */
export async function loadStatusInput(
  db: Db,
  site: SiteRef,
  staleAfterMs: number,
  cache?: StatusInputCache,
): Promise<Omit<StatusInput, 'revisionGraceMs'> | null> {
  if (site.currentRevision === 0) return null;
  const spec = await specOf(db, site, cache);
  if (!spec) return null;
  const nodeRows = await db
    .select({ id: nodes.id, name: nodes.name, desiredRevision: nodes.desiredRevision })
    .from(nodes)
    .where(and(eq(nodes.siteId, site.id), isNull(nodes.removedAt)));
  const ids = nodeRows.map((n) => n.id);
  const reports = ids.length ? await reportsOf(db, site.id, cache) : new Map<string, CachedReport>();
  // When each node's desired revision went out (or was queued, while the broker is away); a
  // document held for its rollout stage was not sent, so the node is not late for it yet.
  const sent = ids.length
    ? await db
        .select({ nodeId: outbox.nodeId, publishedAt: outbox.publishedAt, createdAt: outbox.createdAt })
        .from(outbox)
        .innerJoin(nodes, and(eq(nodes.id, outbox.nodeId), eq(nodes.desiredRevision, outbox.revision)))
        .where(and(eq(outbox.siteId, site.id), ne(outbox.status, 'held')))
    : [];
  const sentAt = new Map<string, number>();
  for (const s of sent) sentAt.set(s.nodeId, Math.min(sentAt.get(s.nodeId) ?? Infinity, (s.publishedAt ?? s.createdAt).getTime()));
  const inputs: Record<string, NodeInput> = {};
  for (const n of nodeRows) {
    const row = reports.get(n.id);
    const at = sentAt.get(n.id);
    inputs[n.name] = {
      status: row?.status ?? null,
      online: row?.online ?? false,
      receivedAt: row ? row.updatedAt : null,
      desired: n.desiredRevision > 0 && at !== undefined ? { revision: n.desiredRevision, at } : null,
    };
  }
  return { site: spec, nodes: inputs, staleAfterMs, overrides: await activeOverrides(db, site.id, new Date()) };
}

/**
 * Whether two reads of one site's status input hold the same inputs. The spec and each report are
 * compared as objects: a cache (StatusInputCache) hands out the same ones while the revision and
 * the report's stored time are unchanged, so a read without one never compares equal. The rest
 * are compared by value.
 */
export function sameStatusInput(a: Omit<StatusInput, 'revisionGraceMs'>, b: Omit<StatusInput, 'revisionGraceMs'>): boolean {
  if (a.site !== b.site || a.staleAfterMs !== b.staleAfterMs) return false;
  const names = Object.keys(a.nodes);
  if (names.length !== Object.keys(b.nodes).length) return false;
  for (const name of names) {
    const x = a.nodes[name];
    const y = b.nodes[name];
    if (!x || !y) {
      if (x !== y) return false;
      continue;
    }
    if (x.status !== y.status || x.online !== y.online || x.receivedAt !== y.receivedAt) return false;
    if ((x.desired?.revision ?? null) !== (y.desired?.revision ?? null) || (x.desired?.at ?? null) !== (y.desired?.at ?? null)) return false;
  }
  return JSON.stringify(a.overrides ?? []) === JSON.stringify(b.overrides ?? []);
}

/** The site's revision in force, validated (once per revision with a cache); null when it is not valid. */
async function specOf(db: Db, site: SiteRef, cache?: StatusInputCache): Promise<Site | null> {
  const known = cache?.specs.get(site.id);
  if (known?.revision === site.currentRevision) return known.site;
  const [rev] = await db
    .select({ spec: siteRevisions.spec })
    .from(siteRevisions)
    .where(and(eq(siteRevisions.siteId, site.id), eq(siteRevisions.revision, site.currentRevision)));
  const spec = rev ? Site.safeParse(rev.spec) : null;
  if (!spec?.success) return null;
  cache?.specs.set(site.id, { revision: site.currentRevision, site: spec.data });
  return spec.data;
}

/**
 * Each live node's last report, validated. A first read takes only each row's `updated_at` and
 * presence; the reports whose time moved since the cache's last read of the site (all of them,
 * with a new cache) are then read whole, with the time they carry then (a row stored between the
 * two reads is taken at its newer state).
 */
async function reportsOf(db: Db, siteId: string, cache = new StatusInputCache()): Promise<Map<string, CachedReport>> {
  const live = and(eq(nodes.siteId, siteId), isNull(nodes.removedAt));
  const validated = (r: { nodeId: string; online: boolean; status: unknown; updatedAt: Date }): CachedReport => {
    const parsed = NodeStatus.safeParse({ ...(r.status as object), nodeId: r.nodeId, online: r.online });
    return { updatedAt: r.updatedAt.getTime(), online: r.online, status: parsed.success ? parsed.data : null };
  };
  const before = cache.reports.get(siteId);
  const stamps = await db
    .select({ nodeId: nodeStatus.nodeId, online: nodeStatus.online, updatedAt: nodeStatus.updatedAt })
    .from(nodeStatus)
    .innerJoin(nodes, eq(nodes.id, nodeStatus.nodeId))
    .where(live);
  const now = new Map<string, CachedReport>();
  const moved: string[] = [];
  for (const r of stamps) {
    const known = before?.get(r.nodeId);
    if (known && known.updatedAt === r.updatedAt.getTime() && known.online === r.online) now.set(r.nodeId, known);
    else moved.push(r.nodeId);
  }
  if (moved.length) {
    const rows = await db
      .select({ nodeId: nodeStatus.nodeId, online: nodeStatus.online, status: nodeStatus.status, updatedAt: nodeStatus.updatedAt })
      .from(nodeStatus)
      .where(inJsonList(nodeStatus.nodeId, moved));
    for (const r of rows) now.set(r.nodeId, validated(r));
  }
  cache.reports.set(siteId, now);
  return now;
}
