import { GROUP_STATES, REALSERVER_STATES, SITE_STATES, type SiteStatus } from '#shared/status/model.ts';

/**
 * The fleet as Prometheus sees it: what the database and the status model say at one scrape,
 * turned into samples. Pure; `fleet-facts.ts` reads the facts, `fleet-registry.ts` hands the
 * samples to prom-client. The one definition of these series for both runtimes (Node `serve`
 * and the Worker), so their names, help, labels and values cannot drift apart.
 */

/** What one scrape reads: the status model's evaluation of every site and a few counts. */
export interface FleetFacts {
  sites: SiteStatus[];
  /** Alerts raised and not resolved, counted by site, type and severity. */
  openAlerts: { site: string; type: string; severity: string; n: number }[];
  /** `vrrp.transition` events to MASTER, stored or deleted by retention, counted by site and instance. */
  becameMaster: { site: string; instance: string; n: number }[];
  /** Outbox rows still to publish (pending or failed and due again). */
  outboxPending: number;
}

export interface FamilySpec {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  labelNames: readonly string[];
}

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export const FLEET_FAMILIES = {
  nodeOnline: {
    name: 'lvsfleet_node_online',
    help: '1 when the node sent a fresh report and is connected',
    type: 'gauge',
    labelNames: ['site', 'node', 'role'],
  },
  reportAge: {
    name: 'lvsfleet_node_report_age_seconds',
    help: "seconds since the cloud received the node's last report",
    type: 'gauge',
    labelNames: ['site', 'node'],
  },
  masters: {
    name: 'lvsfleet_vrrp_masters',
    help: 'members of the VRRP instance seen MASTER in a fresh report',
    type: 'gauge',
    labelNames: ['site', 'instance'],
  },
  groupStatus: {
    name: 'lvsfleet_vrrp_group_status',
    help: "1 for the VRRP instance's current state (ok, split_brain, no_master, unknown), 0 for the others",
    type: 'gauge',
    labelNames: ['site', 'instance', 'status'],
  },
  siteStatus: {
    name: 'lvsfleet_site_status',
    help: "1 for the site's current state, 0 for the others",
    type: 'gauge',
    labelNames: ['site', 'status'],
  },
  healthy: {
    name: 'lvsfleet_service_healthy_realservers',
    help: 'real servers of the service whose health check passed, per the reporting director',
    type: 'gauge',
    labelNames: ['site', 'service'],
  },
  realServers: {
    name: 'lvsfleet_service_realservers',
    help: 'real servers of the service by state (up, down, unchecked, unknown)',
    type: 'gauge',
    labelNames: ['site', 'service', 'state'],
  },
  alertsOpen: {
    name: 'lvsfleet_alerts_open',
    help: 'alerts raised and not resolved',
    type: 'gauge',
    labelNames: ['site', 'type', 'severity'],
  },
  becameMaster: {
    name: 'lvsfleet_vrrp_become_master_total',
    help: "VRRP transitions to MASTER reported by the site's directors (from the event history)",
    type: 'counter',
    labelNames: ['site', 'instance'],
  },
  outboxPending: {
    name: 'lvsfleet_outbox_pending',
    help: 'desired-state documents stored but not yet published',
    type: 'gauge',
    labelNames: [],
  },
} as const satisfies Record<string, FamilySpec>;

export type FleetFamily = keyof typeof FLEET_FAMILIES;

/** Every family's samples at `now` (ms); a family with none is still listed, so it keeps its HELP and TYPE. */
export function fleetSamples(facts: FleetFacts, now: number): Record<FleetFamily, Sample[]> {
  const out: Record<FleetFamily, Sample[]> = {
    nodeOnline: [],
    reportAge: [],
    masters: [],
    groupStatus: [],
    siteStatus: [],
    healthy: [],
    realServers: [],
    alertsOpen: [],
    becameMaster: [],
    outboxPending: [{ labels: {}, value: facts.outboxPending }],
  };
  for (const s of facts.sites) {
    const site = s.site;
    // A state gauge lists every state with 0 beside the current 1, so `== 1` and `absent()` both work in rules.
    for (const st of SITE_STATES) out.siteStatus.push({ labels: { site, status: st }, value: s.state === st ? 1 : 0 });
    for (const n of s.nodes) {
      out.nodeOnline.push({ labels: { site, node: n.name, role: n.role }, value: n.state === 'online' || n.state === 'degraded' ? 1 : 0 });
      // A node that never reported has no age: no series rather than a made-up one.
      if (n.lastReportAt) out.reportAge.push({ labels: { site, node: n.name }, value: Math.max(0, (now - Date.parse(n.lastReportAt)) / 1000) });
    }
    for (const g of s.vrrp) {
      out.masters.push({ labels: { site, instance: g.instance }, value: g.masters.length });
      for (const st of GROUP_STATES) out.groupStatus.push({ labels: { site, instance: g.instance, status: st }, value: g.state === st ? 1 : 0 });
    }
    for (const svc of s.services) {
      const count = (state: string) => svc.realServers.filter((x) => x.state === state).length;
      out.healthy.push({ labels: { site, service: svc.name }, value: count('up') });
      for (const st of REALSERVER_STATES) out.realServers.push({ labels: { site, service: svc.name, state: st }, value: count(st) });
    }
  }
  for (const o of facts.openAlerts) out.alertsOpen.push({ labels: { site: o.site, type: o.type, severity: o.severity }, value: o.n });
  // Stored events plus those retention deleted (tallied as it deletes them): monotonic, as a counter must be.
  for (const m of facts.becameMaster) out.becameMaster.push({ labels: { site: m.site, instance: m.instance }, value: m.n });
  return out;
}
