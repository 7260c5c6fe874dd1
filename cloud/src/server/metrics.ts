import type { MiddlewareHandler } from 'hono';
import { inArray, sql } from 'drizzle-orm';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../db/client.ts';
import { OUTBOX_OPEN, outbox } from '../db/schema.ts';

/**
 * Prometheus metrics for the Node server (`/metrics`): process defaults, HTTP requests by route
 * template and status, and the outbox backlog the publisher still has to send.
 */
export function createMetrics(db: Db): {
  registry: Registry;
  middleware: MiddlewareHandler;
  render(): Promise<{ contentType: string; body: string }>;
  /** One message from a node that ingest refused, by reason (oversize, schema, …). */
  ingestRejected(reason: string): void;
} {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lvsfleet_' });
  const requests = new Counter({
    name: 'lvsfleet_http_requests_total',
    help: 'HTTP requests',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'lvsfleet_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'lvsfleet_outbox_pending',
    help: 'desired-state documents stored but not yet published',
    registers: [registry],
    async collect() {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(outbox)
        .where(inArray(outbox.status, OUTBOX_OPEN));
      this.set(row?.n ?? 0);
    },
  });
  const rejected = new Counter({
    name: 'lvsfleet_ingest_rejected_total',
    help: 'MQTT messages from nodes that ingest refused, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  const middleware: MiddlewareHandler = async (c, next) => {
    const start = performance.now();
    await next();
    // routePath is the matched template (`/v1/sites/:site`), so label values stay few.
    const route = c.req.routePath || 'unmatched';
    requests.inc({ method: c.req.method, route, status: String(c.res.status) });
    duration.observe({ method: c.req.method, route }, (performance.now() - start) / 1000);
  };
  return {
    registry,
    middleware,
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
    ingestRejected: (reason) => rejected.inc({ reason }),
  };
}
