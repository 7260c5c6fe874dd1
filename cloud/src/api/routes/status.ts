import { createRoute, type z } from '@hono/zod-openapi';
import type { StatusBook } from '../../status/book.ts';
import { validatedStatus } from '../../status/stored-reports.ts';
import { listOverrides } from '../../overrides/store.ts';
import { rolloutOf } from '../../rollout/store.ts';
import { notFound } from '../../sites/errors.ts';
import { listNodes, recentEvents, requireSite } from '../../sites/queries.ts';
import type { App, AppDeps } from '../context.ts';
import { RevisionParam, RevisionProgress, SiteStatus, SiteParam, type StatusNode } from '../schemas.ts';
import { authErrors, notFoundError } from './common.ts';
import { rolloutView } from './rollout.ts';

const route = createRoute({
  method: 'get',
  path: '/v1/sites/{site}/status',
  operationId: 'getSiteStatus',
  tags: ['status'],
  description:
    "The status model's evaluation: the site's state (operational, degraded_performance, partial_outage, major_outage or unknown) with reasons and since, each node's last report, VRRP groups, real servers, and recent events. A site no node reported from recently is unknown, never operational.",
  summary: "The site's state with its reasons (the status model), each node's last report, and recent events",
  request: { params: SiteParam },
  responses: { 200: { content: { 'application/json': { schema: SiteStatus } }, description: 'status' }, ...authErrors, ...notFoundError },
});

const progressRoute = createRoute({
  method: 'get',
  path: '/v1/sites/{site}/revisions/{n}/progress',
  operationId: 'getRevisionProgress',
  tags: ['status'],
  description:
    "Where revision n is on the site's nodes: each live node's desired, applied and pending revision, whether it is online and in sync, and the errors of its last apply; and the revision's staged rollout, if it had one. The nodes' revisions as the site's status gives them, without their whole reports (VRRP, services, real servers), which make a large site's status megabytes: what a client following an apply polls. Viewer token.",
  summary: "Where a revision is: each node's applied and pending revision and errors, and the revision's rollout",
  request: { params: RevisionParam },
  responses: {
    200: { content: { 'application/json': { schema: RevisionProgress } }, description: 'progress' },
    ...authErrors,
    ...notFoundError,
  },
});

export function registerStatusRoutes(app: App, deps: AppDeps, book: StatusBook): void {
  app.openapi(route, async (c) => {
    const row = await requireSite(deps.db, c.get('auth').orgId, c.req.valid('param').site);
    const view = await book.evaluate(row);
    // The reports as the evaluation read them (validated once, kept while their rows stay the
    // same); only a site without a valid revision, which the book does not evaluate, has its
    // reports read here.
    const nodes = (await listNodes(deps.db, row, { status: !view })).map((n): z.infer<typeof StatusNode> => {
      // A malformed report shows as nothing.
      const s = view ? (view.reports[n.name]?.status ?? null) : validatedStatus(n.nodeId, n.online, n.status);
      return {
        nodeId: n.nodeId,
        name: n.name,
        role: n.role,
        online: n.online,
        desiredRevision: n.desiredRevision,
        appliedRevision: n.appliedRevision,
        pendingRevision: s?.pendingRevision ?? null,
        inSync: n.inSync,
        lastSeen: n.lastSeen,
        vrrp: s?.vrrp ?? [],
        services: s?.services ?? [],
        errors: s?.errors ?? [],
        overrides: s?.overrides ?? [],
      };
    });
    const health = view?.status ?? null;
    return c.json(
      {
        site: row.name,
        revision: row.currentRevision,
        state: health?.state ?? 'unknown',
        since: health?.since ?? null,
        reasons: health?.reasons ?? [],
        health,
        nodes,
        overrides: (await listOverrides(deps.db, c.get('auth').orgId, row.name)).map((r) => ({
          id: r.override.id,
          kind: r.override.kind,
          until: r.override.until,
          author: r.override.author,
          summary: r.summary,
        })),
        events: await recentEvents(deps.db, row),
      },
      200,
    );
  });

  app.openapi(progressRoute, async (c) => {
    const { site, n } = c.req.valid('param');
    const row = await requireSite(deps.db, c.get('auth').orgId, site);
    // Revisions are numbered from 1 and never removed: every one up to the current one exists.
    if (n > row.currentRevision) throw notFound(`revision ${n} of site "${row.name}"`);
    // The nodes and their reports as the status book keeps them: no row read again for a poll
    // unless it moved, and no evaluation of the site.
    const { nodes, reports } = await book.nodeReports(row);
    const progress = nodes.map((node) => {
      const r = reports.get(node.id);
      const s = r?.status;
      const applied = s?.appliedRevision ?? null;
      return {
        name: node.name,
        role: node.role,
        online: r?.online ?? false,
        desiredRevision: node.desiredRevision,
        appliedRevision: applied,
        pendingRevision: s?.pendingRevision ?? null,
        inSync: r !== undefined && applied === node.desiredRevision,
        errors: s?.errors ?? [],
      };
    });
    progress.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const rollout = await rolloutOf(deps.db, row.id, n);
    return c.json({ site: row.name, revision: n, currentRevision: row.currentRevision, nodes: progress, rollout: rollout ? rolloutView(rollout) : null }, 200);
  });
}
