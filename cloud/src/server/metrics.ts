import type { MiddlewareHandler } from 'hono';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { Db } from '../db/client.ts';
import type { DeliveryCounts } from '../alerts/queue.ts';
import type { StatusBook } from '../status/book.ts';
import { readFleetFacts } from '../metrics/fleet-facts.ts';
import { fleetSamples } from '../metrics/fleet-model.ts';
import { registerFleetMetrics } from '../metrics/fleet-registry.ts';

/**
 * Prometheus metrics for the Node server (`/metrics`): the fleet, read from the database at each
 * scrape (`cloud/src/metrics/`, the same families the Worker serves), and what only a long-lived
 * process can count: process defaults, HTTP requests by route template and status, webhook
 * deliveries and ingest refusals since the start.
 */
export function createMetrics(
  db: Db,
  status: StatusBook,
): {
  registry: Registry;
  middleware: MiddlewareHandler;
  render(): Promise<{ contentType: string; body: string }>;
  countDeliveries(c: DeliveryCounts): void;
  /** One message from a node that ingest refused, by reason (oversize, schema, …). */
  ingestRejected(reason: string): void;
} {
  const registry = new Registry();
  const fleet = registerFleetMetrics(registry);
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
  const deliveries = new Counter({
    name: 'lvsfleet_webhook_deliveries_total',
    help: 'webhook delivery attempts by result (delivered, retried, failed: given up)',
    labelNames: ['result'],
    registers: [registry],
  });
  for (const result of ['delivered', 'retried', 'failed']) deliveries.inc({ result }, 0);
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
      const now = Date.now();
      fleet.load(fleetSamples(await readFleetFacts(db, status, now), now));
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    countDeliveries: (c) => {
      for (const result of ['delivered', 'retried', 'failed'] as const) if (c[result]) deliveries.inc({ result }, c[result]);
    },
    ingestRejected: (reason) => rejected.inc({ reason }),
  };
}
