import { SITE_STATES, type SiteState, type SiteStatus } from '#shared/status/model.ts';
import { SEVERITIES, type Severity } from '#shared/wire/events.ts';

export interface FleetSummary {
  sites: number;
  /** Sites per state (every state present, zero when none). */
  byState: Record<SiteState, number>;
  /** Open alerts per severity. */
  openAlerts: Record<Severity, number>;
  nodes: number;
  /** Nodes the model sees offline or cannot see (unknown): no fresh report. */
  nodesOffline: number;
  /** Directors that became MASTER in the window (a failover, or a start). */
  failovers: number;
}

/**
 * The dashboard's fleet line (pure): how many sites are in each state, open alerts by severity,
 * nodes without a fresh report, and `failovers`: MASTER transitions in the last 24 h, counted by the caller.
 */
export function fleetSummary(statuses: SiteStatus[], openAlerts: { severity: Severity }[], failovers: number): FleetSummary {
  const byState = Object.fromEntries(SITE_STATES.map((s) => [s, 0])) as Record<SiteState, number>;
  for (const s of statuses) byState[s.state]++;
  const alerts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const a of openAlerts) alerts[a.severity]++;
  const nodes = statuses.flatMap((s) => s.nodes);
  return {
    sites: statuses.length,
    byState,
    openAlerts: alerts,
    nodes: nodes.length,
    nodesOffline: nodes.filter((n) => n.state === 'offline' || n.state === 'unknown').length,
    failovers,
  };
}
