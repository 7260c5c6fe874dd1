import { and, desc, eq, gte, inArray, isNull, sql } from 'drizzle-orm';
import { fieldChanges, type FieldChange } from '#shared/util/field-diff.ts';
import { Site } from '#shared/site/site.ts';
import type { NodeStatusEntry } from '#shared/status/model.ts';
import type { Db } from '../db/client.ts';
import { isBecameMaster } from '../db/event-kinds.ts';
import { idTable } from '../db/in-json.ts';
import { alerts, events, nodes, siteRevisions } from '../db/schema.ts';
import { latestRolloutSummaries } from '../rollout/store.ts';
import { summaryJson, type RolloutSummaryJson, type RolloutSummaryRow } from '../rollout/summary.ts';
import { redactSecrets } from '../sites/secrets.ts';
import type { SiteView } from '../status/book.ts';
import { fleetSummary, type FleetSummary } from '../status/fleet-summary.ts';
import { worstFirst } from './public-status.ts';
import { pageView, type PageView } from './view.ts';

const DAY_MS = 86_400_000;
const EVENTS_PER_SITE = 20;
const REVISIONS_PER_SITE = 20;
/** The rollouts a site lists: the one in progress (always the newest) and the last five before it. */
const ROLLOUTS_PER_SITE = 6;

interface DashboardNode extends NodeStatusEntry {
  desiredRevision: number;
  /** The node runs another revision than the one desired for it (or none). */
  drift: boolean;
}

interface DashboardSite extends Omit<PageView, 'nodes'> {
  nodes: DashboardNode[];
  openAlerts: { type: string; severity: string; subject: string; summary: string; raisedAt: string }[];
  events: { node: string | null; type: string; at: string; data: unknown }[];
  revisions: { revision: number; author: string; message: string; createdAt: string; rolledBackFrom: number | null }[];
  /** Newest first, as `GET /v1/sites/{site}/rollouts` lists them: counts, not node lists. */
  rollouts: RolloutSummaryJson[];
}

export interface Dashboard {
  generatedAt: string;
  summary: FleetSummary;
  /** Worst first. */
  sites: DashboardSite[];
}

/** The site a LATERAL read over `idTable(ids)` is reading. */
const thisSite = sql`s.id`;

/**
 * Everything the dashboard shows, in one read: the fleet line and each site with its nodes, alerts,
 * events and revisions. Each site's newest events and revisions are read as that many rows, and the
 * day's failovers as a count: every event of the day came back for a 20-line list, and a day of a
 * 10,000-node site's applies is 10,000 `apply.succeeded` events each (100,000 of them made each
 * read of the dashboard, every 10 s, 0.8 s of the cloud's CPU).
 */
export async function loadDashboard(db: Db, views: SiteView[], now: number): Promise<Dashboard> {
  const ids = views.map((v) => v.siteId);
  const since = new Date(now - DAY_MS);
  const recentEvents = db
    .select()
    .from(events)
    .where(and(eq(events.siteId, thisSite), gte(events.at, since)))
    .orderBy(desc(events.at), desc(events.id))
    .limit(EVENTS_PER_SITE)
    .as('e');
  const recentRevisions = db
    .select({
      siteId: siteRevisions.siteId,
      revision: siteRevisions.revision,
      author: siteRevisions.author,
      message: siteRevisions.message,
      createdAt: siteRevisions.createdAt,
      rolledBackFrom: siteRevisions.rolledBackFrom,
    })
    .from(siteRevisions)
    .where(eq(siteRevisions.siteId, thisSite))
    .orderBy(desc(siteRevisions.revision))
    .limit(REVISIONS_PER_SITE)
    .as('r');
  const [nodeRows, alertRows, eventRows, revisionRows, [failovers], rolloutRows] = !ids.length
    ? [[], [], [], [], [{ n: 0 }], new Map<string, RolloutSummaryRow[]>()]
    : await Promise.all([
        db
          .select({ siteId: nodes.siteId, name: nodes.name, desiredRevision: nodes.desiredRevision })
          .from(nodes)
          .where(and(inArray(nodes.siteId, ids), isNull(nodes.removedAt))),
        db
          .select()
          .from(alerts)
          .where(and(inArray(alerts.siteId, ids), isNull(alerts.resolvedAt))),
        db
          .select({ siteId: recentEvents.siteId, nodeId: recentEvents.nodeId, type: recentEvents.type, at: recentEvents.at, data: recentEvents.data })
          .from(idTable(ids))
          .crossJoinLateral(recentEvents)
          .orderBy(desc(recentEvents.at), desc(recentEvents.id)),
        db
          .select({
            siteId: recentRevisions.siteId,
            revision: recentRevisions.revision,
            author: recentRevisions.author,
            message: recentRevisions.message,
            createdAt: recentRevisions.createdAt,
            rolledBackFrom: recentRevisions.rolledBackFrom,
          })
          .from(idTable(ids))
          .crossJoinLateral(recentRevisions)
          .orderBy(desc(recentRevisions.revision)),
        db
          .select({ n: sql<number>`count(*)::int` })
          .from(events)
          .where(and(inArray(events.siteId, ids), gte(events.at, since), isBecameMaster)),
        latestRolloutSummaries(db, ids, ROLLOUTS_PER_SITE),
      ]);
  const desired = new Map(nodeRows.map((n) => [`${n.siteId}|${n.name}`, n.desiredRevision]));
  const sites = views.map((v): DashboardSite => {
    const page = pageView(v);
    return {
      ...page,
      // Each node built whole, in the order its members are written: spread from the status entry,
      // a 10,000-node site's nodes took about 20 ms of a read in a CPU profile (the dashboard reads every 10 s).
      nodes: page.nodes.map((n) => {
        const want = desired.get(`${v.siteId}|${n.name}`) ?? 0;
        return {
          name: n.name,
          role: n.role,
          appliedRevision: n.appliedRevision,
          lastReportAt: n.lastReportAt,
          state: n.state,
          since: n.since,
          reasons: n.reasons,
          desiredRevision: want,
          drift: want > 0 && n.appliedRevision !== want,
        };
      }),
      openAlerts: alertRows
        .filter((a) => a.siteId === v.siteId)
        .map((a) => ({ type: a.type, severity: a.severity, subject: a.subject, summary: a.summary, raisedAt: a.raisedAt.toISOString() })),
      events: eventRows.filter((e) => e.siteId === v.siteId).map((e) => ({ node: e.nodeId, type: e.type, at: e.at.toISOString(), data: e.data })),
      revisions: revisionRows
        .filter((r) => r.siteId === v.siteId)
        .map((r) => ({ revision: r.revision, author: r.author, message: r.message, createdAt: r.createdAt.toISOString(), rolledBackFrom: r.rolledBackFrom })),
      rollouts: (rolloutRows.get(v.siteId) ?? []).map(summaryJson),
    };
  });
  return {
    generatedAt: new Date(now).toISOString(),
    summary: fleetSummary(
      views.map((v) => v.status),
      alertRows,
      failovers?.n ?? 0,
    ),
    sites: worstFirst(sites.map((s) => ({ ...s, site: s.site }))),
  };
}

/**
 * The field-level diff between two revisions of a site, secrets masked (the dashboard reads with
 * a viewer token). Null when either revision does not exist.
 */
export async function revisionDiff(db: Db, siteId: string, from: number, to: number): Promise<{ from: number; to: number; changes: FieldChange[] } | null> {
  const rows = await db
    .select({ revision: siteRevisions.revision, spec: siteRevisions.spec })
    .from(siteRevisions)
    .where(and(eq(siteRevisions.siteId, siteId), inArray(siteRevisions.revision, [from, to])));
  const spec = (n: number) => {
    const row = rows.find((r) => r.revision === n);
    const parsed = row ? Site.safeParse(row.spec) : null;
    return parsed?.success ? redactSecrets(parsed.data) : null;
  };
  const a = spec(from);
  const b = spec(to);
  return a && b ? { from, to, changes: fieldChanges(a, b) } : null;
}
