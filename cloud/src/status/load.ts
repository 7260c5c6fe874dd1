import { and, eq, isNull, ne, sql, type SQL } from 'drizzle-orm';
import type { NodeInput, StatusInput } from '#shared/status/evaluate.ts';
import { Site } from '#shared/site/site.ts';
import type { Db } from '../db/client.ts';
import { idTable } from '../db/in-json.ts';
import { rowsOf } from '../db/rows.ts';
import { activeOverrides } from '../overrides/active.ts';
import { nextExpiry, type Override } from '#shared/overrides/override.ts';
import { nodes, nodeStatus, outbox, siteRevisions } from '../db/schema.ts';
import { refreshReports, type StoredReport } from './stored-reports.ts';

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
  readonly reports = new Map<string, Map<string, StoredReport>>();
  readonly fleets = new Map<string, Fleet>();
  /** The versions (`inputVersions`, fleet and reports) each site's `reports` were read at. */
  readonly reportVersions = new Map<string, string>();
  readonly overrides = new Map<string, ActiveOverrides>();
  /** Each site's last input with the fleet and reports it was built of (the objects above): handed out again while its parts are the same. */
  readonly inputs = new Map<string, { fleet: Omit<Fleet, 'version'>; reports: Map<string, StoredReport>; input: Omit<StatusInput, 'revisionGraceMs'> }>();

  /** Drops what it holds of every site not in `live` (site ids). */
  forget(live: ReadonlySet<string>): void {
    for (const map of [this.specs, this.reports, this.fleets, this.reportVersions, this.overrides, this.inputs])
      for (const id of map.keys()) if (!live.has(id)) map.delete(id);
  }
}

/** A live node as the status input reads it. */
interface FleetNode {
  id: string;
  name: string;
  role: 'director' | 'realserver';
  desiredRevision: number;
}

/**
 * A site's live nodes and when each one's desired revision went out, with the version of the rows
 * they were read from (`inputVersions`): read again only when that version moved.
 */
interface Fleet {
  version: string;
  nodes: FleetNode[];
  sentAt: Map<string, number>;
}

/** A site's active overrides as read at `at` and its rows' `version`: the same until one of them expires (`expires`) or a row moves. */
interface ActiveOverrides {
  version: string;
  at: number;
  list: Override[];
  expires: number | null;
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
  opts: {
    /** The evaluation's time: which overrides are active. */
    now?: number;
    /** The site's versions, when the caller read them (`inputVersionsOf`, for many sites in one statement) before this read. */
    versions?: InputVersions;
  } = {},
): Promise<Omit<StatusInput, 'revisionGraceMs'> | null> {
  const now = opts.now ?? Date.now();
  if (site.currentRevision === 0) return null;
  const spec = await specOf(db, site, cache);
  if (!spec) return null;
  const { versions, fleet, reports } = await fleetAndReports(db, site.id, cache, opts.versions);
  const { nodes: nodeRows, sentAt } = fleet;
  const overrides = await overridesOf(db, site.id, now, cache, versions?.overrides);
  // The very parts of the last read: the very input, not another 10,000 node entries to build and compare.
  const kept = cache?.inputs.get(site.id);
  if (
    kept &&
    kept.input.site === spec &&
    kept.fleet === fleet &&
    kept.reports === reports &&
    kept.input.overrides === overrides &&
    kept.input.staleAfterMs === staleAfterMs
  )
    return kept.input;
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
  const input = { site: spec, nodes: inputs, staleAfterMs, overrides };
  cache?.inputs.set(site.id, { fleet, reports, input });
  return input;
}

/** A site's live nodes and their reports as `loadStatusInput` reads them, with the versions they were read at (none without a cache). */
async function fleetAndReports(db: Db, siteId: string, cache?: StatusInputCache, given?: InputVersions) {
  // Read before the rows: a write between the two leaves the kept version behind, so the next read reads again.
  const versions = cache ? (given ?? (await inputVersions(db, siteId))) : undefined;
  const fleet = await fleetOf(db, siteId, cache, versions?.fleet);
  const reports = fleet.nodes.length
    ? await reportsOf(db, siteId, cache, versions && `${versions.fleet}/${versions.reports}`)
    : new Map<string, StoredReport>();
  return { versions, fleet, reports };
}

/** A site's live nodes and each one's last report by node id, validated (none where a node has not reported). */
export interface NodeReports {
  nodes: readonly FleetNode[];
  reports: ReadonlyMap<string, StoredReport>;
}

/**
 * The site's live nodes and their last reports, from the cache where their rows have not moved
 * (`loadStatusInput`'s parts that need no valid revision): for a reader of the nodes' revisions
 * that needs neither the spec nor an evaluation.
 */
export async function loadNodeReports(db: Db, siteId: string, cache?: StatusInputCache): Promise<NodeReports> {
  const { fleet, reports } = await fleetAndReports(db, siteId, cache);
  return { nodes: fleet.nodes, reports };
}

/** The site's overrides active at `now`; read again only when their rows' `version` moved or one of them expired (always without one). */
async function overridesOf(db: Db, siteId: string, now: number, cache?: StatusInputCache, version?: string): Promise<Override[]> {
  const known = cache?.overrides.get(siteId);
  // Not for a clock that went back: an override that had expired at the read may be active again.
  if (known && version !== undefined && known.version === version && now >= known.at && (known.expires === null || now < known.expires)) return known.list;
  const list = await activeOverrides(db, siteId, new Date(now));
  if (version !== undefined) cache?.overrides.set(siteId, { version, at: now, list, expires: nextExpiry(list, now) });
  return list;
}

/**
 * Whether two reads of one site's status input hold the same inputs. The spec and each report are
 * compared as objects: a cache (StatusInputCache) hands out the same ones while the revision and
 * the report's stored time are unchanged, so a read without one never compares equal. The rest
 * are compared by value. A cache hands out the very same input while none of its parts moved.
 */
export function sameStatusInput(a: Omit<StatusInput, 'revisionGraceMs'>, b: Omit<StatusInput, 'revisionGraceMs'>): boolean {
  if (a === b) return true;
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

/** Versions of what a site's status input is read from (`inputVersions`). */
export interface InputVersions {
  /** Its `nodes` rows and their `outbox` rows: they move at an apply, a publish, a rollout's stage, a prune. */
  fleet: string;
  /** Its nodes' `node_status` rows: they move with every report (the agents' heartbeats). */
  reports: string;
  /** Its `overrides` rows not ended: they move when an operator starts, changes or ends one, or the sweep ends it. */
  overrides: string;
}

/**
 * Versions of the rows a site's status input is read from, in one short answer: each row counts
 * by its key and its xmin (the transaction that wrote that version of the row; an UPDATE writes a
 * new one), hashed and summed per table beside the row count. So an insert, update or delete of
 * any of those rows moves its version, unless 64-bit hash sums happen to coincide. A VACUUM FREEZE
 * may move one with nothing changed: that costs a read, never a missed change. The alerter reads a
 * 10,000-node site every 2 s; its nodes and documents move at an apply or a publish, and its
 * reports only while its agents are up.
 */
export async function inputVersions(db: Db, siteId: string): Promise<InputVersions> {
  return (await inputVersionsOf(db, [siteId])).get(siteId)!;
}

/** `inputVersions` of several sites in one statement (the alerter's round over every site); a site without rows has versions too. */
export async function inputVersionsOf(db: Db, siteIds: readonly string[]): Promise<Map<string, InputVersions>> {
  if (!siteIds.length) return new Map();
  const part = (key: SQL, from: SQL) =>
    sql`(SELECT count(*)::text || ':' || coalesce(sum(hashtextextended(${key} || ':' || x.xmin::text, 0)), 0)::text ${from})`;
  const rows = rowsOf<InputVersions & { site_id: string }>(
    await db.execute(sql`
      SELECT s.id AS site_id,
             ${part(sql`x.id`, sql`FROM nodes x WHERE x.site_id = s.id`)}
               || '/' || ${part(sql`x.id::text`, sql`FROM outbox x JOIN nodes n ON n.id = x.node_id WHERE n.site_id = s.id`)} AS fleet,
             ${part(sql`x.node_id`, sql`FROM node_status x JOIN nodes n ON n.id = x.node_id WHERE n.site_id = s.id`)} AS reports,
             ${part(sql`x.id`, sql`FROM overrides x WHERE x.site_id = s.id AND x.ended_at IS NULL`)} AS overrides
      FROM ${idTable(siteIds)}`),
  );
  return new Map(rows.map(({ site_id, ...v }) => [site_id, v]));
}

/** The site's live nodes and when each one's desired revision went out; read again only when `version` moved (always without one). */
async function fleetOf(db: Db, siteId: string, cache?: StatusInputCache, version?: string): Promise<Omit<Fleet, 'version'>> {
  const known = cache?.fleets.get(siteId);
  if (known && version !== undefined && known.version === version) return known;
  const nodeRows = await db
    .select({ id: nodes.id, name: nodes.name, role: nodes.role, desiredRevision: nodes.desiredRevision })
    .from(nodes)
    .where(and(eq(nodes.siteId, siteId), isNull(nodes.removedAt)));
  // When each node's desired revision went out (or was queued, while the broker is away); a
  // document held for its rollout stage was not sent, so the node is not late for it yet.
  const sent = nodeRows.length
    ? await db
        .select({ nodeId: outbox.nodeId, publishedAt: outbox.publishedAt, createdAt: outbox.createdAt })
        .from(outbox)
        .innerJoin(nodes, and(eq(nodes.id, outbox.nodeId), eq(nodes.desiredRevision, outbox.revision)))
        .where(and(eq(outbox.siteId, siteId), ne(outbox.status, 'held')))
    : [];
  const sentAt = new Map<string, number>();
  for (const s of sent) sentAt.set(s.nodeId, Math.min(sentAt.get(s.nodeId) ?? Infinity, (s.publishedAt ?? s.createdAt).getTime()));
  const fleet: Fleet = { version: version ?? '', nodes: nodeRows, sentAt };
  if (version !== undefined) cache?.fleets.set(siteId, fleet);
  return fleet;
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
async function reportsOf(db: Db, siteId: string, cache = new StatusInputCache(), version?: string): Promise<Map<string, StoredReport>> {
  const kept = cache.reports.get(siteId);
  // No report and no node of the site moved: the very reports of the last read (the alerter's round over an idle fleet).
  if (kept && version !== undefined && cache.reportVersions.get(siteId) === version) return kept;
  const live = and(eq(nodes.siteId, siteId), isNull(nodes.removedAt));
  const stamps = await db
    .select({ nodeId: nodeStatus.nodeId, online: nodeStatus.online, updatedAt: nodeStatus.updatedAt })
    .from(nodeStatus)
    .innerJoin(nodes, eq(nodes.id, nodeStatus.nodeId))
    .where(live);
  const now = await refreshReports(db, stamps, cache.reports.get(siteId));
  cache.reports.set(siteId, now);
  if (version !== undefined) cache.reportVersions.set(siteId, version);
  return now;
}
