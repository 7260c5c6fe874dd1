import { createRoute, z } from '@hono/zod-openapi';
import { scopeAllows } from '../../auth/tokens.ts';
import { listAudit } from '../../sites/audit.ts';
import type { App, AppDeps } from '../context.ts';
import { authErrors, badRequest } from './common.ts';

const AuditEntry = z
  .object({
    id: z.number().int(),
    at: z.string(),
    actor: z.string().openapi({ description: 'the token name, `node:ID` for an agent, or `serve`' }),
    action: z.string().openapi({ example: 'site.apply' }),
    target: z.string().openapi({ description: 'what was changed: a site, node id, token id or webhook id' }),
    site: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()),
  })
  .openapi('AuditEntry');

const AuditQuery = z.object({
  site: z.string().min(1).max(100).optional().openapi({ description: 'only entries about this site' }),
  action: z.string().min(1).max(100).optional().openapi({ description: 'only this action, e.g. site.apply' }),
  actor: z.string().min(1).max(200).optional().openapi({ description: 'only this actor' }),
  since: z.iso.datetime({ offset: true }).optional().openapi({ description: 'entries at or after this time (RFC 3339)' }),
  until: z.iso.datetime({ offset: true }).optional().openapi({ description: 'entries before this time (RFC 3339)' }),
  before: z.coerce.number().int().min(1).optional().openapi({ description: 'the `next` of the previous page' }),
  limit: z.coerce.number().int().min(1).max(500).default(100).openapi({ description: 'entries per page (1–500, default 100)' }),
});

const list = createRoute({
  method: 'get',
  path: '/v1/audit',
  operationId: 'listAudit',
  tags: ['audit'],
  summary: 'Who changed what, and when',
  description:
    'The audit log of the org, newest first: applies and rollbacks, enrollments, token and webhook changes. Needs an operator token; entries about tokens and webhooks are only shown to admin tokens. Page with `before`: each answer carries the `next` cursor, null on the last page.',
  request: { query: AuditQuery },
  responses: {
    200: {
      content: { 'application/json': { schema: z.object({ entries: z.array(AuditEntry), next: z.number().int().nullable() }) } },
      description: 'one page of entries',
    },
    ...badRequest,
    ...authErrors,
  },
});

export function registerAuditRoutes(app: App, deps: AppDeps): void {
  app.openapi(list, async (c) => {
    const who = c.get('auth');
    const q = c.req.valid('query');
    const page = await listAudit(deps.db, {
      orgId: who.orgId,
      site: q.site,
      action: q.action,
      actor: q.actor,
      since: q.since ? new Date(q.since) : undefined,
      until: q.until ? new Date(q.until) : undefined,
      before: q.before,
      limit: q.limit,
      admin: scopeAllows(who.scope, 'admin'),
    });
    return c.json(page, 200);
  });
}
