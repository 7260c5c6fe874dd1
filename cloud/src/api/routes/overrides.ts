import { createRoute, z } from '@hono/zod-openapi';
import { OVERRIDE_KINDS } from '#shared/overrides/override.ts';
import { cancelOverride, createOverride, listOverrides } from '../../overrides/store.ts';
import type { App, AppDeps } from '../context.ts';
import { SiteParam } from '../schemas.ts';
import { authErrors, badRequest, errorResponse, notFoundError } from './common.ts';

const Ref = z.string().min(1).max(128);

const OverrideBody = z
  .strictObject({
    kind: z.enum(OVERRIDE_KINDS),
    realServer: Ref.optional().openapi({ description: 'drain-realserver: a realserver node name or an address' }),
    port: z.number().int().min(0).max(65535).optional(),
    service: Ref.optional().openapi({ description: 'drain-realserver (omit for every service), disable-service' }),
    node: Ref.optional().openapi({ description: 'drain-director, maintenance-director; failover: the director to make MASTER' }),
    instance: Ref.optional().openapi({ description: 'failover: the VRRP instance' }),
    for: z.string().max(16).optional().openapi({ description: 'how long, like 45s, 30m, 2h or 1d (at most 31d); or give until' }),
    until: z.string().max(64).optional().openapi({ description: 'when it ends (RFC 3339); or give for' }),
    drainTimeout: z.string().max(16).optional().openapi({
      description:
        'drain-realserver, disable-service: how long the drain may report draining before it reports drained with connections left, like 10m (default 5m); connections are never cut by it',
    }),
    reason: z.string().min(1).max(1000),
    force: z
      .boolean()
      .optional()
      .openapi({ description: 'do it although it leaves a service without a serving real server or a group without a possible MASTER' }),
    forceReason: z.string().min(1).max(1000).optional(),
  })
  .openapi('OverrideCreate');

const OverrideRecord = z
  .object({
    override: z.record(z.string(), z.unknown()),
    summary: z.string(),
    active: z.boolean(),
    endedAt: z.string().nullable(),
    endReason: z.enum(['expired', 'cancelled']).nullable(),
    endedBy: z.string().nullable(),
  })
  .openapi('Override');

const IdParam = SiteParam.extend({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' } }),
});

const create = createRoute({
  method: 'post',
  path: '/v1/sites/{site}/overrides',
  operationId: 'createOverride',
  tags: ['overrides'],
  summary: 'Start a time-boxed override (operator): drain a real server, take a director out of VRRP, fail an instance over, or disable a service',
  description:
    'The override is layered on the current revision by the agents until it ends, on their own clocks, without a new revision. ' +
    'Refused with 409 unsafe_override when it would leave a service without a serving real server or a VRRP group without a director able to be MASTER, unless force is set with a forceReason.',
  request: { params: SiteParam, body: { content: { 'application/json': { schema: OverrideBody } }, required: true } },
  responses: {
    200: {
      content: { 'application/json': { schema: OverrideRecord.extend({ publishedNodes: z.array(z.string()) }) } },
      description: 'the new override and the nodes it is sent to',
    },
    ...badRequest,
    ...authErrors,
    ...notFoundError,
    409: errorResponse('it would leave a service without a serving real server or a group without a possible MASTER (unsafe_override)'),
    422: errorResponse('it names nothing in the site, or its time is wrong (invalid_override)'),
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/sites/{site}/overrides',
  operationId: 'listOverrides',
  tags: ['overrides'],
  description: 'Active overrides carry the line people read ("rs1 drained for maintenance until 03:30 UTC by alice"). Viewer token.',
  summary: "The site's active overrides, newest first; with all=1 the ended ones too",
  request: { params: SiteParam, query: z.object({ all: z.enum(['0', '1', 'true', 'false']).optional() }) },
  responses: {
    200: { content: { 'application/json': { schema: z.object({ overrides: z.array(OverrideRecord) }) } }, description: 'overrides' },
    ...authErrors,
    ...notFoundError,
  },
});

const cancel = createRoute({
  method: 'delete',
  path: '/v1/sites/{site}/overrides/{id}',
  operationId: 'cancelOverride',
  tags: ['overrides'],
  description: 'Ends the override and republishes the documents of the nodes it concerned, with a newer override generation. Operator token.',
  summary: 'End an active override now (operator); the nodes go back to the revision',
  request: { params: IdParam },
  responses: {
    200: { content: { 'application/json': { schema: OverrideRecord.extend({ publishedNodes: z.array(z.string()) }) } }, description: 'the ended override' },
    ...authErrors,
    ...notFoundError,
    422: errorResponse('it has already ended (invalid_override)'),
  },
});

/** Operational overrides (drain, maintenance, failover, disable): audited, evented, carried in the signed documents. */
export function registerOverrideRoutes(app: App, deps: AppDeps): void {
  app.openapi(create, async (c) => {
    const { site } = c.req.valid('param');
    const who = c.get('auth');
    const r = await createOverride(deps.db, { orgId: who.orgId, site, author: who.name, request: c.req.valid('json') });
    if (r.publishedNodes.length) deps.kick?.();
    return c.json(r, 200);
  });
  app.openapi(list, async (c) => {
    const { site } = c.req.valid('param');
    const all = ['1', 'true'].includes(c.req.valid('query').all ?? '');
    return c.json({ overrides: await listOverrides(deps.db, c.get('auth').orgId, site, { all }) }, 200);
  });
  app.openapi(cancel, async (c) => {
    const { site, id } = c.req.valid('param');
    const who = c.get('auth');
    const r = await cancelOverride(deps.db, { orgId: who.orgId, site, id, actor: who.name });
    if (r.publishedNodes.length) deps.kick?.();
    return c.json(r, 200);
  });
}
