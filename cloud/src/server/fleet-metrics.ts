import { and, count, eq, isNull, sql } from 'drizzle-orm';
import { Counter, Gauge, type Registry } from 'prom-client';
import { SITE_STATES, type SiteStatus } from '#shared/status/model.ts';
import type { Db } from '../db/client.ts';
import { alerts, events, sites } from '../db/schema.ts';
import type { DeliveryCounts } from '../alerts/queue.ts';
import type { StatusBook } from '../status/book.ts';

/**
 * The fleet as Prometheus sees it, from the same status model as the pages and the alerts
 * (cloud/src/status/book.ts): nodes, VRRP masters, site and service states, open alerts,
 * failovers and webhook deliveries. `refresh()` runs once per scrape, before the registry is read.
 */
export function createFleetMetrics(registry: Registry, db: Db, book: StatusBook) {
  const r = [registry];
  const nodeOnline = new Gauge({
    name: 'lvsfleet_node_online',
    help: '1 when the node sent a fresh report and is connected',
    labelNames: ['site', 'node', 'role'],
    registers: r,
  });
  const reportAge = new Gauge({
    name: 'lvsfleet_node_report_age_seconds',
    help: "seconds since the cloud received the node's last report",
    labelNames: ['site', 'node'],
    registers: r,
  });
  const masters = new Gauge({
    name: 'lvsfleet_vrrp_masters',
    help: 'members of the VRRP instance seen MASTER in a fresh report',
    labelNames: ['site', 'instance'],
    registers: r,
  });
  const groupStatus = new Gauge({
    name: 'lvsfleet_vrrp_group_status',
    help: "1 for the VRRP instance's current state (ok, split_brain, no_master, unknown), 0 for the others",
    labelNames: ['site', 'instance', 'status'],
    registers: r,
  });
  const siteStatus = new Gauge({
    name: 'lvsfleet_site_status',
    help: "1 for the site's current state, 0 for the others",
    labelNames: ['site', 'status'],
    registers: r,
  });
  const healthy = new Gauge({
    name: 'lvsfleet_service_healthy_realservers',
    help: 'real servers of the service whose health check passed, per the reporting director',
    labelNames: ['site', 'service'],
    registers: r,
  });
  const realServers = new Gauge({
    name: 'lvsfleet_service_realservers',
    help: 'real servers of the service by state (up, down, unchecked, unknown)',
    labelNames: ['site', 'service', 'state'],
    registers: r,
  });
  const open = new Gauge({ name: 'lvsfleet_alerts_open', help: 'alerts raised and not resolved', labelNames: ['site', 'type', 'severity'], registers: r });
  const failovers = new Counter({
    name: 'lvsfleet_vrrp_become_master_total',
    help: "VRRP transitions to MASTER reported by the site's directors (from the event history)",
    labelNames: ['site', 'instance'],
    registers: r,
  });
  const deliveries = new Counter({
    name: 'lvsfleet_webhook_deliveries_total',
    help: 'webhook delivery attempts by result (delivered, retried, failed: given up)',
    labelNames: ['result'],
    registers: r,
  });
  for (const result of ['delivered', 'retried', 'failed']) deliveries.inc({ result }, 0);

  function setSite(s: SiteStatus, now: number): void {
    const site = s.site;
    for (const st of SITE_STATES) siteStatus.set({ site, status: st }, s.state === st ? 1 : 0);
    for (const n of s.nodes) {
      nodeOnline.set({ site, node: n.name, role: n.role }, n.state === 'online' || n.state === 'degraded' ? 1 : 0);
      if (n.lastReportAt) reportAge.set({ site, node: n.name }, Math.max(0, (now - Date.parse(n.lastReportAt)) / 1000));
    }
    for (const g of s.vrrp) {
      masters.set({ site, instance: g.instance }, g.masters.length);
      for (const st of ['ok', 'split_brain', 'no_master', 'unknown']) groupStatus.set({ site, instance: g.instance, status: st }, g.state === st ? 1 : 0);
    }
    for (const svc of s.services) {
      const n = (state: string) => svc.realServers.filter((x) => x.state === state).length;
      healthy.set({ site, service: svc.name }, n('up'));
      for (const st of ['up', 'down', 'unchecked', 'unknown']) realServers.set({ site, service: svc.name, state: st }, n(st));
    }
  }

  return {
    /** Reads the fleet afresh; series of sites, nodes and alerts that are gone disappear. */
    async refresh(now = Date.now()): Promise<void> {
      const views = await book.all(now);
      for (const g of [nodeOnline, reportAge, masters, groupStatus, siteStatus, healthy, realServers, open]) g.reset();
      for (const v of views) setSite(v.status, now);
      const openRows = await db
        .select({ site: sites.name, type: alerts.type, severity: alerts.severity, n: count() })
        .from(alerts)
        .innerJoin(sites, eq(sites.id, alerts.siteId))
        .where(isNull(alerts.resolvedAt))
        .groupBy(sites.name, alerts.type, alerts.severity);
      for (const o of openRows) open.set({ site: o.site, type: o.type, severity: o.severity }, o.n);
      const instance = sql<string>`${events.data}->>'instance'`;
      const masterRows = await db
        .select({ site: sites.name, instance, n: count() })
        .from(events)
        .innerJoin(sites, eq(sites.id, events.siteId))
        .where(and(eq(events.type, 'vrrp.transition'), sql`${events.data}->>'to' = 'MASTER'`))
        .groupBy(sites.name, instance);
      // A count of stored history: monotonic while events are kept, as a counter must be.
      failovers.reset();
      for (const m of masterRows) failovers.inc({ site: m.site, instance: m.instance }, m.n);
    },
    countDeliveries(c: DeliveryCounts): void {
      for (const result of ['delivered', 'retried', 'failed'] as const) if (c[result]) deliveries.inc({ result }, c[result]);
    },
  };
}
