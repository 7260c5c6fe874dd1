import { spawnSync } from 'node:child_process';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { SiteStatus } from '#shared/status/model.ts';
import { FLEET_FAMILIES, fleetSamples, type FleetFacts } from './fleet-model.ts';
import { registerFleetMetrics } from './fleet-registry.ts';

const PROMTOOL = spawnSync('promtool', ['--version']).status === 0 ? 'promtool' : null;
if (!PROMTOOL) console.log('fleet metrics: promtool check skipped (promtool not installed; Debian package prometheus)');

const NOW = Date.parse('2026-03-01T12:00:00Z');
const part = { since: '2026-03-01T11:00:00Z', reasons: [] };

/** A site seen split-brained: both directors MASTER, one real server down, one not checked yet, a real-server node that never reported. */
const SPLIT: SiteStatus = {
  ...part,
  site: 'bj-dc1',
  state: 'major_outage',
  evaluatedAt: new Date(NOW).toISOString(),
  nodes: [
    { ...part, name: 'dr1', role: 'director', state: 'online', appliedRevision: 3, lastReportAt: '2026-03-01T11:59:50Z' },
    { ...part, name: 'dr2', role: 'director', state: 'degraded', appliedRevision: 3, lastReportAt: '2026-03-01T11:59:57.500Z' },
    { ...part, name: 'rs1', role: 'realserver', state: 'unknown', appliedRevision: null, lastReportAt: null },
    // A clock skewed ahead: the age is never negative.
    { ...part, name: 'rs2', role: 'realserver', state: 'offline', appliedRevision: 2, lastReportAt: '2026-03-01T12:00:04Z' },
  ],
  vrrp: [
    {
      ...part,
      instance: 'VI_1',
      vrid: 50,
      state: 'split_brain',
      masters: ['dr1', 'dr2'],
      members: [
        { node: 'dr1', state: 'MASTER' },
        { node: 'dr2', state: 'MASTER' },
      ],
    },
  ],
  services: [
    {
      ...part,
      name: 'web',
      state: 'partial_outage',
      endpoint: '192.168.1.150:80',
      group: 'VI_1',
      reportedBy: 'dr1',
      realServers: [
        { ...part, address: '192.168.1.132', port: 80, node: 'rs1', state: 'up', detail: null },
        { ...part, address: '192.168.1.133', port: 80, node: 'rs2', state: 'down', detail: 'HTTP 503' },
        { ...part, address: '192.168.1.113', port: 80, node: null, state: 'unchecked', detail: null },
      ],
    },
  ],
};

const FACTS: FleetFacts = {
  sites: [SPLIT],
  openAlerts: [{ site: 'bj-dc1', type: 'site.split_brain', severity: 'critical', n: 1 }],
  becameMaster: [{ site: 'bj-dc1', instance: 'VI_1', n: 4 }],
  outboxPending: 2,
};

describe('fleetSamples', () => {
  const s = fleetSamples(FACTS, NOW);

  it('a state gauge lists every state, 1 for the current one', () => {
    expect(s.siteStatus).toEqual(
      ['operational', 'degraded_performance', 'partial_outage', 'major_outage', 'unknown'].map((status) => ({
        labels: { site: 'bj-dc1', status },
        value: status === 'major_outage' ? 1 : 0,
      })),
    );
    expect(s.groupStatus.map((x) => [x.labels.status, x.value])).toEqual([
      ['ok', 0],
      ['split_brain', 1],
      ['no_master', 0],
      ['unknown', 0],
    ]);
    expect(s.masters).toEqual([{ labels: { site: 'bj-dc1', instance: 'VI_1' }, value: 2 }]);
  });

  it('online and degraded nodes count as online; a report age only for nodes that reported, never below 0', () => {
    expect(s.nodeOnline.map((x) => [x.labels.node, x.labels.role, x.value])).toEqual([
      ['dr1', 'director', 1],
      ['dr2', 'director', 1],
      ['rs1', 'realserver', 0],
      ['rs2', 'realserver', 0],
    ]);
    expect(s.reportAge).toEqual([
      { labels: { site: 'bj-dc1', node: 'dr1' }, value: 10 },
      { labels: { site: 'bj-dc1', node: 'dr2' }, value: 2.5 },
      { labels: { site: 'bj-dc1', node: 'rs2' }, value: 0 },
    ]);
  });

  it('real servers by state, the healthy ones apart; alerts, transitions to MASTER and the outbox as counted', () => {
    expect(s.healthy).toEqual([{ labels: { site: 'bj-dc1', service: 'web' }, value: 1 }]);
    expect(s.realServers.map((x) => [x.labels.state, x.value])).toEqual([
      ['up', 1],
      ['down', 1],
      ['unchecked', 1],
      ['unknown', 0],
    ]);
    expect(s.alertsOpen).toEqual([{ labels: { site: 'bj-dc1', type: 'site.split_brain', severity: 'critical' }, value: 1 }]);
    expect(s.becameMaster).toEqual([{ labels: { site: 'bj-dc1', instance: 'VI_1' }, value: 4 }]);
    expect(s.outboxPending).toEqual([{ labels: {}, value: 2 }]);
  });

  it('every sample has exactly its family’s labels', () => {
    for (const [key, samples] of Object.entries(s)) {
      const names = [...FLEET_FAMILIES[key as keyof typeof FLEET_FAMILIES].labelNames].sort();
      for (const x of samples) expect(Object.keys(x.labels).sort(), key).toEqual(names);
    }
  });

  it('an empty fleet still has the outbox backlog and no other series', () => {
    const empty = fleetSamples({ sites: [], openAlerts: [], becameMaster: [], outboxPending: 0 }, NOW);
    expect(Object.entries(empty).filter(([, v]) => v.length)).toEqual([['outboxPending', [{ labels: {}, value: 0 }]]]);
  });
});

describe('registerFleetMetrics: the exposition', () => {
  async function render(facts: FleetFacts, registry = new Registry(), fleet = registerFleetMetrics(registry)): Promise<string> {
    fleet.load(fleetSamples(facts, NOW));
    return registry.metrics();
  }

  it('writes each family with its HELP and TYPE and each sample as a line', async () => {
    const lines = (await render(FACTS)).split('\n');
    for (const f of Object.values(FLEET_FAMILIES)) {
      expect(lines).toContain(`# HELP ${f.name} ${f.help}`);
      expect(lines).toContain(`# TYPE ${f.name} ${f.type}`);
    }
    expect(lines).toEqual(
      expect.arrayContaining([
        'lvsfleet_vrrp_masters{site="bj-dc1",instance="VI_1"} 2',
        'lvsfleet_node_report_age_seconds{site="bj-dc1",node="dr2"} 2.5',
        'lvsfleet_service_realservers{site="bj-dc1",service="web",state="down"} 1',
        'lvsfleet_alerts_open{site="bj-dc1",type="site.split_brain",severity="critical"} 1',
        'lvsfleet_vrrp_become_master_total{site="bj-dc1",instance="VI_1"} 4',
        'lvsfleet_outbox_pending 2',
      ]),
    );
  });

  it('a later load replaces the series: a site that is gone leaves none behind, a counter is not added twice', async () => {
    const registry = new Registry();
    const fleet = registerFleetMetrics(registry);
    await render(FACTS, registry, fleet);
    const other = { ...SPLIT, site: 'sh-dc2' };
    const text = await render({ ...FACTS, sites: [other], becameMaster: [{ site: 'sh-dc2', instance: 'VI_1', n: 1 }], openAlerts: [] }, registry, fleet);
    expect(text).not.toContain('bj-dc1');
    expect(text.split('\n')).toContain('lvsfleet_vrrp_become_master_total{site="sh-dc2",instance="VI_1"} 1');
  });

  it.skipIf(!PROMTOOL)('passes promtool check metrics', async () => {
    const r = spawnSync(PROMTOOL!, ['check', 'metrics'], { input: await render(FACTS), encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
