import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm';
import { EVENT_TYPES, SEVERITIES } from '#shared/wire/events.ts';
import { alertOf, alertPriority, deliveryPriority, newDeliveryId, payloadFor } from '../../alerts/payload.ts';
import { newWebhookSecret } from '../../alerts/standard-webhooks.ts';
import { webhookUrlRefusal } from '../../alerts/webhook-target.ts';
import { events, sites, webhookDeliveries, webhooks } from '../../db/schema.ts';
import { audit } from '../../sites/audit.ts';
import type { App, AppDeps } from '../context.ts';
import { ApiError, notFound } from '../errors.ts';
import { authErrors, badRequest, notFoundError } from './common.ts';

const WebhookBody = z
  .strictObject({
    url: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//.test(u), 'url must be http(s)'),
    format: z.enum(['standard', 'slack']).default('standard'),
    events: z.array(z.string().refine((t) => EVENT_TYPES.includes(t), { message: `unknown event type; one of ${EVENT_TYPES.join(', ')}` })).default([]),
    site: z.string().min(1).optional(),
    /** The quietest severity delivered: `warning` leaves out normal operation (VRRP transitions, applies). */
    minSeverity: z.enum(SEVERITIES).default('info'),
  })
  .openapi('WebhookCreate');

const WebhookRow = z
  .object({
    id: z.string(),
    url: z.string(),
    format: z.string(),
    events: z.array(z.string()),
    site: z.string().nullable(),
    minSeverity: z.enum(SEVERITIES),
    createdAt: z.string(),
  })
  .openapi('Webhook');

const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) });

const Delivery = z
  .object({
    id: z.string(),
    eventId: z.number().int(),
    type: z.string().nullable(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    lastStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    /** When the next attempt is due; null once delivered or given up. */
    nextAttemptAt: z.string().nullable(),
    createdAt: z.string(),
    deliveredAt: z.string().nullable(),
  })
  .openapi('WebhookDelivery');

const deliveries = createRoute({
  method: 'get',
  path: '/v1/webhooks/{id}/deliveries',
  operationId: 'listWebhookDeliveries',
  tags: ['webhooks'],
  description:
    "The webhook's recent deliveries, newest first, with attempts, the last status code or error and the next retry time. Finished deliveries are kept as long as events (the server's event retention, 30 days by default).",
  summary: "A webhook's delivery log, newest first (admin): status code, attempts, next retry, last error",
  request: { params: IdParam, query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }) },
  responses: {
    200: { content: { 'application/json': { schema: z.object({ deliveries: z.array(Delivery) }) } }, description: 'deliveries' },
    ...authErrors,
    ...notFoundError,
  },
});
const test = createRoute({
  method: 'post',
  path: '/v1/webhooks/{id}/test',
  operationId: 'testWebhook',
  tags: ['webhooks'],
  description: 'Queues a `webhook.test` event for this webhook only, delivered and signed like any other.',
  summary: 'Queue a signed `webhook.test` event for this webhook only (admin)',
  request: { params: IdParam },
  responses: {
    200: { content: { 'application/json': { schema: z.object({ delivery: z.string() }) } }, description: 'queued; sent within seconds' },
    ...authErrors,
    ...notFoundError,
  },
});
const redeliver = createRoute({
  method: 'post',
  path: '/v1/webhooks/{id}/redeliver',
  operationId: 'redeliverWebhookEvent',
  tags: ['webhooks'],
  description:
    "Queues one past event for this webhook again as a new delivery, whatever became of the first. An event older than the server's event retention (30 days by default) is gone: not found.",
  summary: 'Queue one past event for this webhook again, as a new delivery (admin)',
  request: { params: IdParam, body: { content: { 'application/json': { schema: z.strictObject({ event: z.number().int().min(1) }) } }, required: true } },
  responses: {
    200: { content: { 'application/json': { schema: z.object({ delivery: z.string() }) } }, description: 'queued; sent within seconds' },
    ...badRequest,
    ...authErrors,
    ...notFoundError,
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/webhooks',
  operationId: 'listWebhooks',
  tags: ['webhooks'],
  description: "The org's webhooks with their filters (event types, site, minimum severity). Never the signing secret.",
  summary: 'Webhooks of the org (admin)',
  responses: {
    200: { content: { 'application/json': { schema: z.object({ webhooks: z.array(WebhookRow) }) } }, description: 'webhooks, without secrets' },
    ...authErrors,
  },
});
const create = createRoute({
  method: 'post',
  path: '/v1/webhooks',
  operationId: 'createWebhook',
  tags: ['webhooks'],
  description:
    'Subscribes a URL to events. The URL must resolve to a public address unless the server allows private ones. Standard Webhooks format answers its signing secret once; Slack format posts Slack-shaped text.',
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
  operationId: 'deleteWebhook',
  tags: ['webhooks'],
  description: 'Disables the webhook; no further deliveries are made. Its delivery log stays.',
  summary: 'Disable a webhook (admin)',
  request: { params: IdParam },
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
  minSeverity: r.minSeverity,
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
          minSeverity: body.minSeverity,
          lastEventId: Number(max ?? 0),
        })
        .returning();
      await audit(tx, {
        orgId: who.orgId,
        actor: who.name,
        action: 'webhook.create',
        target: made.id,
        detail: { url: body.url, format: body.format, minSeverity: body.minSeverity },
      });
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

  /** The org's live webhook, or not_found. */
  async function hookOf(orgId: string, id: string) {
    const [hook] = await deps.db
      .select()
      .from(webhooks)
      .where(and(eq(webhooks.id, id), eq(webhooks.orgId, orgId), isNull(webhooks.disabledAt)));
    if (!hook) throw notFound(`webhook ${id}`);
    return hook;
  }

  app.openapi(deliveries, async (c) => {
    const hook = await hookOf(c.get('auth').orgId, c.req.valid('param').id);
    const rows = await deps.db
      .select({ d: webhookDeliveries, type: events.type })
      .from(webhookDeliveries)
      .leftJoin(events, eq(events.id, webhookDeliveries.eventId))
      .where(eq(webhookDeliveries.webhookId, hook.id))
      .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
      .limit(c.req.valid('query').limit);
    return c.json(
      {
        deliveries: rows.map(({ d, type }) => ({
          id: d.id,
          eventId: d.eventId,
          // The test event has no row in `events`; its type is in the payload.
          type: type ?? (d.payload as { type?: string }).type ?? null,
          status: d.status,
          attempts: d.attempts,
          lastStatus: d.lastStatus,
          lastError: d.lastError,
          nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
          createdAt: d.createdAt.toISOString(),
          deliveredAt: d.deliveredAt?.toISOString() ?? null,
        })),
      },
      200,
    );
  });

  app.openapi(test, async (c) => {
    const who = c.get('auth');
    const hook = await hookOf(who.orgId, c.req.valid('param').id);
    const at = new Date().toISOString();
    const summary = `test event from lvsfleet for webhook ${hook.id}`;
    const payload = payloadFor(hook, {
      id: '0',
      type: 'webhook.test',
      site: hook.siteName,
      nodeId: null,
      at,
      summary,
      data: { webhook: hook.id, summary },
    });
    const id = newDeliveryId();
    // Event id 0: a test is no event of the fleet's history; it goes to this webhook only, first,
    // because someone is watching for it.
    await deps.db.insert(webhookDeliveries).values({ id, webhookId: hook.id, eventId: 0, payload, priority: deliveryPriority('critical') });
    await audit(deps.db, { orgId: who.orgId, actor: who.name, action: 'webhook.test', target: hook.id });
    return c.json({ delivery: id }, 200);
  });

  app.openapi(redeliver, async (c) => {
    const who = c.get('auth');
    const hook = await hookOf(who.orgId, c.req.valid('param').id);
    const eventId = c.req.valid('json').event;
    const [row] = await deps.db
      .select({ e: events, siteName: sites.name, orgId: sites.orgId })
      .from(events)
      .leftJoin(sites, eq(sites.id, events.siteId))
      .where(eq(events.id, eventId));
    if (!row || row.orgId !== who.orgId) throw notFound(`event ${eventId}`);
    const id = newDeliveryId();
    const alert = alertOf(row.e, row.siteName);
    await deps.db.insert(webhookDeliveries).values({ id, webhookId: hook.id, eventId, payload: payloadFor(hook, alert), priority: alertPriority(alert) });
    await audit(deps.db, { orgId: who.orgId, actor: who.name, action: 'webhook.redeliver', target: hook.id, detail: { event: eventId } });
    return c.json({ delivery: id }, 200);
  });
}
