import { createRoute, type z } from '@hono/zod-openapi';
import type { StatusBook } from '../../status/book.ts';
import { validatedStatus } from '../../status/stored-reports.ts';
import { listOverrides } from '../../overrides/store.ts';
import { listNodes, recentEvents, requireSite } from '../../sites/queries.ts';
import type { App, AppDeps } from '../context.ts';
import { SiteStatus, SiteParam, type StatusNode } from '../schemas.ts';
import { authErrors, notFoundError } from './common.ts';

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
}
