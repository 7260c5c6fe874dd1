import { createRoute, z } from '@hono/zod-openapi';
import { resolveServices } from '#shared/compiler/resolve-service.ts';
import type { Site } from '#shared/site/site.ts';
import { scopeAllows, type TokenIdentity } from '../../auth/tokens.ts';
import { getRevision, listNodes, listRevisions, listSites, requireSite } from '../../sites/queries.ts';
import { redactSecrets } from '../../sites/secrets.ts';
import type { App, AppDeps } from '../context.ts';
import { NodeRow, RevisionFull, RevisionMeta, RevisionParam, ServiceRow, SiteDetail, SiteParam, SiteSummary } from '../schemas.ts';
import { authErrors, notFoundError } from './common.ts';
import { byName } from '#shared/site/by-name.ts';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ 200: { content: { 'application/json': { schema } }, description } });

const routes = {
  list: createRoute({
    method: 'get',
    path: '/v1/sites',
    operationId: 'listSites',
    tags: ['sites'],
    description: "Every site of the token's org with its current revision, node count and last change. Viewer token.",
    summary: "Sites of the token's org",
    responses: { ...json(z.object({ sites: z.array(SiteSummary) }), 'sites'), ...authErrors },
  }),
  get: createRoute({
    method: 'get',
    path: '/v1/sites/{site}',
    operationId: 'getSite',
    tags: ['sites'],
    description:
      'The current spec and its revision. Secrets (VRRP PASS passwords) read `********` below admin scope; sent back unchanged, they keep the stored value.',
    summary: 'The current spec and revision',
    request: { params: SiteParam },
    responses: { ...json(SiteDetail, 'site'), ...authErrors, ...notFoundError },
  }),
  revisions: createRoute({
    method: 'get',
    path: '/v1/sites/{site}/revisions',
    operationId: 'listRevisions',
    tags: ['sites'],
    description: 'Every stored revision with author, message and time, newest first.',
    summary: 'Every revision, newest first',
    request: { params: SiteParam },
    responses: { ...json(z.object({ revisions: z.array(RevisionMeta) }), 'revisions'), ...authErrors, ...notFoundError },
  }),
  revision: createRoute({
    method: 'get',
    path: '/v1/sites/{site}/revisions/{n}',
    operationId: 'getRevision',
    tags: ['sites'],
    description: 'One revision with its full spec (secrets redacted below admin scope).',
    summary: 'One revision with its spec',
    request: { params: RevisionParam },
    responses: { ...json(RevisionFull, 'revision'), ...authErrors, ...notFoundError },
  }),
  nodes: createRoute({
    method: 'get',
    path: '/v1/sites/{site}/nodes',
    operationId: 'listNodes',
    tags: ['sites'],
    description:
      'The live nodes of the site: role, address, the revision each should run and the one it last reported, whether it is online and in sync, and its last report.',
    summary: 'Live nodes with desired and applied revisions',
    request: { params: SiteParam },
    responses: { ...json(z.object({ nodes: z.array(NodeRow) }), 'nodes'), ...authErrors, ...notFoundError },
  }),
  services: createRoute({
    method: 'get',
    path: '/v1/sites/{site}/services',
    operationId: 'listServices',
    tags: ['sites'],
    description: 'Virtual services of the current revision with defaults applied and real-server addresses resolved: what the directors program.',
    summary: 'Virtual services of the current revision, resolved',
    request: { params: SiteParam },
    responses: { ...json(z.object({ services: z.array(ServiceRow) }), 'services'), ...authErrors, ...notFoundError },
  }),
};

/** Services of a spec as `lvsfleet get services` shows them (defaults applied, addresses resolved). */
function servicesOf(site: Site): z.infer<typeof ServiceRow>[] {
  const nodes = byName(site.spec.nodes);
  const directors = site.spec.nodes.filter((n) => n.role === 'director').map((n) => n.name);
  // A dual-stack service is one row per VIP, IPv4 first.
  return (site.spec.services ?? []).flatMap((svc) =>
    resolveServices(svc, nodes).map((r) => ({
      name: r.name,
      vip: r.vip,
      port: r.vip === null ? null : r.port,
      protocol: r.protocol,
      fwmark: r.fwmark || null,
      scheduler: r.scheduler,
      forwarding: svc.forwarding ?? r.realServers[0]?.forwarding ?? 'dr',
      directors: svc.directors ?? directors,
      realServers: r.realServers.map((rs) => ({ node: rs.node, address: rs.address, port: rs.port, weight: rs.weight, forwarding: rs.forwarding })),
    })),
  );
}

/** The spec as `who` may read it: secrets only for admin tokens. */
const readable = (who: TokenIdentity, spec: Site): Record<string, unknown> =>
  (scopeAllows(who.scope, 'admin') ? spec : redactSecrets(spec)) as unknown as Record<string, unknown>;

export function registerSiteRoutes(app: App, deps: AppDeps): void {
  app.openapi(routes.list, async (c) => c.json({ sites: await listSites(deps.db, c.get('auth').orgId) }, 200));

  app.openapi(routes.get, async (c) => {
    const row = await requireSite(deps.db, c.get('auth').orgId, c.req.valid('param').site);
    const rev = await getRevision(deps.db, row, row.currentRevision);
    c.header('ETag', `"${row.currentRevision}"`);
    return c.json({ name: row.name, revision: row.currentRevision, updatedAt: row.updatedAt.toISOString(), spec: readable(c.get('auth'), rev.spec) }, 200);
  });

  app.openapi(routes.revisions, async (c) => {
    const row = await requireSite(deps.db, c.get('auth').orgId, c.req.valid('param').site);
    return c.json({ revisions: await listRevisions(deps.db, row) }, 200);
  });

  app.openapi(routes.revision, async (c) => {
    const { site, n } = c.req.valid('param');
    const row = await requireSite(deps.db, c.get('auth').orgId, site);
    const rev = await getRevision(deps.db, row, n);
    return c.json({ ...rev, spec: readable(c.get('auth'), rev.spec) }, 200);
  });

  app.openapi(routes.nodes, async (c) => {
    const row = await requireSite(deps.db, c.get('auth').orgId, c.req.valid('param').site);
    return c.json({ nodes: await listNodes(deps.db, row) }, 200);
  });

  app.openapi(routes.services, async (c) => {
    const row = await requireSite(deps.db, c.get('auth').orgId, c.req.valid('param').site);
    const rev = await getRevision(deps.db, row, row.currentRevision);
    return c.json({ services: servicesOf(rev.spec) }, 200);
  });
}
