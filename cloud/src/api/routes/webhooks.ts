import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { newWebhookSecret } from '../../alerts/standard-webhooks.ts';
import { webhookUrlRefusal } from '../../alerts/webhook-target.ts';
import { events, webhooks } from '../../db/schema.ts';
import { audit } from '../../sites/audit.ts';
import type { App, AppDeps } from '../context.ts';
import { ApiError, notFound } from '../errors.ts';
import { authErrors, badRequest, notFoundError } from './common.ts';

const EVENT_TYPES = [
  'vrrp.transition',
  'bfd.transition',
  'realserver.down',
  'realserver.up',
  'service.quorum_lost',
  'service.quorum_restored',
  'apply.succeeded',
  'apply.failed',
  'config.rejected',
  'realserver.drift',
  'node.offline',
  'node.online',
  'site.split_brain',
  'site.no_master',
  'node.stale_revision',
  'node.misbehaving',
  'node.reenrolled',
] as const;

const WebhookBody = z
  .strictObject({
    url: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//.test(u), 'url must be http(s)'),
    format: z.enum(['standard', 'slack']).default('standard'),
    events: z.array(z.enum(EVENT_TYPES)).default([]),
    site: z.string().min(1).optional(),
  })
  .openapi('WebhookCreate');

const WebhookRow = z
  .object({ id: z.string(), url: z.string(), format: z.string(), events: z.array(z.string()), site: z.string().nullable(), createdAt: z.string() })
  .openapi('Webhook');

const list = createRoute({
  method: 'get',
  path: '/v1/webhooks',
  summary: 'Webhooks of the org (admin)',
  responses: {
    200: { content: { 'application/json': { schema: z.object({ webhooks: z.array(WebhookRow) }) } }, description: 'webhooks, without secrets' },
    ...authErrors,
  },
});
const create = createRoute({
  method: 'post',
  path: '/v1/webhooks',
  summary: 'Add a webhook (admin); the signing secret is answered once',
  request: { body: { content: { 'application/json': { schema: WebhookBody } }, required: true } },
  responses: {
    200: { content: { 'application/json': { schema: WebhookRow.extend({ secret: z.string() }) } }, description: 'the new webhook' },
    ...badRequest,
    ...authErrors,
  },
});
const remove = createRoute({
  method: 'delete',
  path: '/v1/webhooks/{id}',
  summary: 'Disable a webhook (admin)',
  request: { params: z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) }) },
  responses: {
    200: { content: { 'application/json': { schema: z.object({ id: z.string(), disabled: z.literal(true) }) } }, description: 'disabled' },
    ...authErrors,
    ...notFoundError,
  },
});

const rowOut = (r: typeof webhooks.$inferSelect) => ({
  id: r.id,
  url: r.url,
  format: r.format,
  events: r.eventTypes as string[],
  site: r.siteName,
  createdAt: r.createdAt.toISOString(),
});

/** Webhook subscriptions (Standard Webhooks, retried from a queue in Postgres, Slack-shaped on request). */
export function registerWebhookRoutes(app: App, deps: AppDeps): void {
  app.openapi(list, async (c) => {
    const rows = await deps.db
      .select()
      .from(webhooks)
      .where(and(eq(webhooks.orgId, c.get('auth').orgId), isNull(webhooks.disabledAt)))
      .orderBy(asc(webhooks.createdAt));
    return c.json({ webhooks: rows.map(rowOut) }, 200);
  });
  app.openapi(create, async (c) => {
    const who = c.get('auth');
    const body = c.req.valid('json');
    // Checked again at every delivery (the name may resolve elsewhere by then).
    const refused = await webhookUrlRefusal(body.url, deps.webhookTargets ?? { allowPrivate: false });
    if (refused) throw new ApiError(400, 'bad_request', `webhook url refused: ${refused}`, [{ path: 'url', message: refused }]);
    const row = await deps.db.transaction(async (tx) => {
      // Start at the newest event: a new webhook gets what happens from now on, not the history.
      const [{ max }] = await tx.select({ max: sql<string | null>`max(${events.id})::text` }).from(events);
      const [made] = await tx
        .insert(webhooks)
        .values({
          id: crypto.randomUUID(),
          orgId: who.orgId,
          url: body.url,
          secret: newWebhookSecret(),
          format: body.format,
          eventTypes: body.events,
          siteName: body.site ?? null,
          lastEventId: Number(max ?? 0),
        })
        .returning();
      await audit(tx, { orgId: who.orgId, actor: who.name, action: 'webhook.create', target: made.id, detail: { url: body.url, format: body.format } });
      return made;
    });
    return c.json({ ...rowOut(row), secret: row.secret }, 200);
  });
  app.openapi(remove, async (c) => {
    const who = c.get('auth');
    const { id } = c.req.valid('param');
    const done = await deps.db.transaction(async (tx) => {
      const rows = await tx
        .update(webhooks)
        .set({ disabledAt: new Date() })
        .where(and(eq(webhooks.id, id), eq(webhooks.orgId, who.orgId), isNull(webhooks.disabledAt)))
        .returning({ id: webhooks.id });
      if (rows.length) await audit(tx, { orgId: who.orgId, actor: who.name, action: 'webhook.disable', target: id });
      return rows.length > 0;
    });
    if (!done) throw notFound(`webhook ${id}`);
    return c.json({ id, disabled: true as const }, 200);
  });
}
