import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { App, AppDeps } from '../context.ts';
import { errorResponse } from './common.ts';

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  tags: ['operations'],
  summary: 'Liveness and database reachability',
  description: 'Answers 200 `{ok: true}` when the server runs and its database answers a query. Needs no token; for load balancers and probes.',
  security: [],
  responses: {
    200: { content: { 'application/json': { schema: z.object({ ok: z.literal(true) }) } }, description: 'the server and its database answer' },
    500: errorResponse('the database does not answer'),
  },
});

/** `/healthz`, and the OpenAPI entry of `/metrics` (served as plain text by the app when the host has metrics). */
export function registerOpsRoutes(app: App, deps: AppDeps): void {
  app.openapi(healthz, async (c) => {
    await deps.db.execute(sql`select 1`);
    return c.json({ ok: true as const }, 200);
  });
  if (deps.metrics)
    app.openAPIRegistry.registerPath({
      method: 'get',
      path: '/metrics',
      operationId: 'getMetrics',
      tags: ['operations'],
      summary: 'Prometheus metrics',
      description:
        'The Prometheus text exposition format: the fleet as the status model sees it (sites, nodes, VRRP groups and real servers by state), open alerts, transitions to MASTER and the publishing backlog, read from the database at each scrape. `lvsfleet serve` adds what its process counts itself (HTTP requests, webhook deliveries, ingest refusals, process and Node.js metrics); the Workers deployment, whose isolates keep no counts, serves the fleet alone. `lvsfleet serve` asks no token (bind or filter it as a scrape target); the Worker, on a public hostname, wants its `METRICS_TOKEN` secret as a bearer token and is off (404) without it.',
      security: [],
      responses: {
        200: { content: { 'text/plain': { schema: z.string() } }, description: 'metrics, text format 0.0.4' },
        401: { description: 'the Worker: no bearer token, or not its METRICS_TOKEN' },
        404: { description: 'the Worker: /metrics off (no METRICS_TOKEN secret)' },
      },
    });
}
