import type { MiddlewareHandler } from 'hono';
import { inArray, sql } from 'drizzle-orm';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../db/client.ts';
import { OUTBOX_OPEN, outbox } from '../db/schema.ts';
import type { DeliveryCounts } from '../alerts/queue.ts';
import type { StatusBook } from '../status/book.ts';
import { createFleetMetrics } from './fleet-metrics.ts';

/**
 * Prometheus metrics for the Node server (`/metrics`): process defaults, HTTP requests by route
 * template and status, the outbox backlog the publisher still has to send, and the fleet
 * (`fleet-metrics.ts`) when a status book is given.
 */
export function createMetrics(
  db: Db,
  status?: StatusBook,
): {
  registry: Registry;
  middleware: MiddlewareHandler;
  render(): Promise<{ contentType: string; body: string }>;
  countDeliveries(c: DeliveryCounts): void;
  /** One message from a node that ingest refused, by reason (oversize, schema, …). */
  ingestRejected(reason: string): void;
} {
  const registry = new Registry();
  const fleet = status ? createFleetMetrics(registry, db, status) : null;
  collectDefaultMetrics({ register: registry, prefix: 'lvsfleet_' });
  // prom-client's three gauges named *_total break the naming rule (promtool refuses them); the
  // same counts by type stay (`lvsfleet_nodejs_active_handles{type}`, …).
  for (const n of ['active_handles_total', 'active_requests_total', 'active_resources_total']) registry.removeSingleMetric(`lvsfleet_nodejs_${n}`);
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
    // routePath is the matched template (`/v1/sites/:site`), so label values stay few; a
    // parameter's pattern (`:site{[A-Za-z0-9]…}`) is left out of the label.
    const route = (c.req.routePath || 'unmatched').replace(/\{[^/]*\}/g, '');
    requests.inc({ method: c.req.method, route, status: String(c.res.status) });
    duration.observe({ method: c.req.method, route }, (performance.now() - start) / 1000);
  };
  return {
    registry,
    middleware,
    render: async () => {
      await fleet?.refresh();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    countDeliveries: (c) => fleet?.countDeliveries(c),
    ingestRejected: (reason) => rejected.inc({ reason }),
  };
}
