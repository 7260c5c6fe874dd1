import { describe, expect, it } from 'vitest';
import type { NodeStatusEntry, SiteState, SiteStatus } from '#shared/status/model.ts';
import { fleetSummary } from './fleet-summary.ts';

const node = (name: string, state: NodeStatusEntry['state']): NodeStatusEntry => ({
  name,
  role: 'director',
  state,
  since: '2026-11-30T02:00:00Z',
  reasons: [],
  appliedRevision: 1,
  lastReportAt: null,
});
const site = (name: string, state: SiteState, nodes: NodeStatusEntry[]): SiteStatus => ({
  site: name,
  state,
  since: '2026-11-30T02:00:00Z',
  reasons: [],
  evaluatedAt: '2026-11-30T02:00:00Z',
  nodes,
  vrrp: [],
  services: [],
});

describe('fleetSummary', () => {
  it('counts sites per state, open alerts per severity, nodes without a fresh report and MASTER transitions', () => {
    const f = fleetSummary(
      [
        site('a', 'operational', [node('d1', 'online'), node('d2', 'degraded')]),
        site('b', 'major_outage', [node('d1', 'offline'), node('d2', 'unknown')]),
        site('c', 'major_outage', []),
      ],
      [{ severity: 'critical' }, { severity: 'warning' }, { severity: 'critical' }],
      2,
    );
    expect(f).toEqual({
      sites: 3,
      byState: { operational: 1, degraded_performance: 0, partial_outage: 0, major_outage: 2, unknown: 0 },
      openAlerts: { info: 0, warning: 1, critical: 2 },
      nodes: 4,
      nodesOffline: 2,
      failovers: 2,
    });
  });
});
