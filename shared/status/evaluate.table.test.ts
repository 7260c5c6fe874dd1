import { describe, expect, it } from 'vitest';
import type { Site } from '../site/site.ts';
import { evaluateSite, type NodeInput } from './evaluate.ts';
import { badgeColour, type BadgeColour, type GroupState, type NodeState, type RealServerState, type ServiceState, type SiteState } from './model.ts';
import { fresh, gone, makeSite, report, T0, WINDOW, type ReportShape } from './status.test-support.ts';

const NOW = T0 + 10_000;
type Nodes = Record<string, NodeInput | undefined>;

/** Every node of the site fresh at T0; dr1 MASTER of every instance, the other directors BACKUP; `over` replaces some. */
function fleet(site: Site, over: Record<string, NodeInput | ReportShape | null> = {}): Nodes {
  const out: Nodes = {};
  const instances = (site.spec.vrrp ?? []).map((i) => i.name);
  for (const n of site.spec.nodes) {
    const o = over[n.name];
    if (o === null) continue;
    if (o && 'online' in o) out[n.name] = o;
    else {
      const vrrp = Object.fromEntries(instances.map((i) => [i, n.name === 'dr1' ? ('MASTER' as const) : ('BACKUP' as const)]));
      out[n.name] = fresh(report(site, n.name, { vrrp, ...o }));
    }
  }
  return out;
}

interface Row {
  name: string;
  site?: Site;
  nodes: (site: Site) => Nodes;
  now?: number;
  revisionGraceMs?: number;
  state: SiteState;
  colour: BadgeColour;
  /** The site's reasons as `code subject`, in any order. */
  reasons: string[];
  vrrp?: Record<string, GroupState>;
  services?: Record<string, ServiceState>;
  /** `service/node` → state. */
  realServers?: Record<string, RealServerState>;
  nodes_?: Record<string, NodeState>;
}

const site = makeSite();
const unchecked = makeSite({ checked: [false] });
const mixed = makeSite({ checked: [false], ownChecks: [true, false, false] });
const two = makeSite({ services: 2 });
const single = makeSite({ directors: 1, vrrp: false });
const M = { VI_1: 'MASTER' as const };
const B = { VI_1: 'BACKUP' as const };

const rows: Row[] = [
  {
    name: 'all healthy: dr1 MASTER, dr2 BACKUP, every check up',
    nodes: (s) => fleet(s),
    state: 'operational',
    colour: 'green',
    reasons: [],
    vrrp: { VI_1: 'ok' },
    services: { web: 'operational' },
    realServers: { 'web/rs1': 'up', 'web/rs2': 'up', 'web/rs3': 'up' },
    nodes_: { dr1: 'online', dr2: 'online', rs1: 'online' },
  },
  {
    name: 'both directors gone (last wills)',
    nodes: (s) => fleet(s, { dr1: gone(report(s, 'dr1', { vrrp: M }), T0 - 5_000), dr2: gone(report(s, 'dr2'), T0 - 3_000) }),
    state: 'unknown',
    colour: 'grey',
    reasons: ['unreachable site', 'node_offline node:dr1', 'node_offline node:dr2', 'unreachable vrrp:VI_1', 'unreachable service:web'],
    vrrp: { VI_1: 'unknown' },
    services: { web: 'unknown' },
    realServers: { 'web/rs1': 'unknown' },
    nodes_: { dr1: 'offline', dr2: 'offline', rs1: 'online' },
  },
  {
    name: 'site never reported',
    nodes: () => ({}),
    state: 'unknown',
    colour: 'grey',
    reasons: [
      'never_reported site',
      'never_reported node:dr1',
      'never_reported node:dr2',
      'never_reported node:rs1',
      'never_reported node:rs2',
      'never_reported node:rs3',
      'never_reported vrrp:VI_1',
      'never_reported service:web',
    ],
    vrrp: { VI_1: 'unknown' },
    services: { web: 'unknown' },
  },
  {
    name: 'one stale report (dr2 silent past the window), dr1 MASTER',
    nodes: (s) => fleet(s, { dr2: fresh(report(s, 'dr2', {}, T0 - 2 * WINDOW), T0 - 2 * WINDOW) }),
    state: 'degraded_performance',
    colour: 'yellow',
    reasons: ['stale_report node:dr2'],
    vrrp: { VI_1: 'ok' },
    services: { web: 'operational' },
    nodes_: { dr2: 'unknown' },
  },
  {
    name: 'both directors stale: the last reports are not kept as truth',
    nodes: (s) =>
      fleet(s, {
        dr1: fresh(report(s, 'dr1', { vrrp: M }, T0 - 2 * WINDOW), T0 - 2 * WINDOW),
        dr2: fresh(report(s, 'dr2', {}, T0 - 2 * WINDOW), T0 - 2 * WINDOW),
      }),
    state: 'unknown',
    colour: 'grey',
    reasons: ['unreachable site', 'stale_report node:dr1', 'stale_report node:dr2', 'unreachable vrrp:VI_1', 'unreachable service:web'],
    vrrp: { VI_1: 'unknown' },
    services: { web: 'unknown' },
  },
  {
    name: 'split brain: both directors MASTER',
    nodes: (s) => fleet(s, { dr2: { vrrp: M } }),
    state: 'major_outage',
    colour: 'red',
    reasons: ['split_brain vrrp:VI_1'],
    vrrp: { VI_1: 'split_brain' },
    services: { web: 'partial_outage' },
  },
  {
    name: 'backup only: dr1 gone, dr2 BACKUP',
    nodes: (s) => fleet(s, { dr1: gone(report(s, 'dr1', { vrrp: M }), T0 - 4_000) }),
    state: 'major_outage',
    colour: 'red',
    reasons: ['node_offline node:dr1', 'no_master vrrp:VI_1'],
    vrrp: { VI_1: 'no_master' },
    services: { web: 'major_outage' },
  },
  {
    name: 'both directors report BACKUP',
    nodes: (s) => fleet(s, { dr1: { vrrp: B } }),
    state: 'major_outage',
    colour: 'red',
    reasons: ['no_master vrrp:VI_1'],
    vrrp: { VI_1: 'no_master' },
    services: { web: 'major_outage' },
  },
  {
    name: 'master in FAULT, backup still BACKUP',
    nodes: (s) => fleet(s, { dr1: { vrrp: { VI_1: 'FAULT' } } }),
    state: 'major_outage',
    colour: 'red',
    reasons: ['no_master vrrp:VI_1'],
    vrrp: { VI_1: 'no_master' },
  },
  {
    name: 'a stale MASTER does not count: dr1 stale saying MASTER, dr2 fresh BACKUP',
    nodes: (s) => fleet(s, { dr1: fresh(report(s, 'dr1', { vrrp: M }, T0 - 2 * WINDOW), T0 - 2 * WINDOW) }),
    state: 'major_outage',
    colour: 'red',
    reasons: ['stale_report node:dr1', 'no_master vrrp:VI_1'],
    vrrp: { VI_1: 'no_master' },
    nodes_: { dr1: 'unknown' },
  },
  {
    name: 'backup gone, master serving: redundancy lost',
    nodes: (s) => fleet(s, { dr2: gone(report(s, 'dr2'), T0 - 1_000) }),
    state: 'degraded_performance',
    colour: 'yellow',
    reasons: ['node_offline node:dr2'],
    vrrp: { VI_1: 'ok' },
    services: { web: 'operational' },
  },
  {
    name: 'all real servers unchecked (no health check)',
    site: unchecked,
    nodes: (s) => fleet(s),
    state: 'unknown',
    colour: 'grey',
    reasons: ['unchecked realserver:web/10.0.2.11:80', 'unchecked realserver:web/10.0.2.12:80', 'unchecked realserver:web/10.0.2.13:80'],
    services: { web: 'unknown' },
    realServers: { 'web/rs1': 'unchecked', 'web/rs2': 'unchecked', 'web/rs3': 'unchecked' },
  },
  {
    name: 'one real server of three down',
    nodes: (s) => fleet(s, { dr1: { vrrp: M, down: ['rs2'] } }),
    state: 'degraded_performance',
    colour: 'yellow',
    reasons: ['realserver_down realserver:web/10.0.2.12:80'],
    services: { web: 'degraded_performance' },
    realServers: { 'web/rs1': 'up', 'web/rs2': 'down', 'web/rs3': 'up' },
  },
  {
    name: 'two real servers of three down',
    nodes: (s) => fleet(s, { dr1: { vrrp: M, down: ['rs2', 'rs3'] } }),
    state: 'partial_outage',
    colour: 'orange',
    reasons: ['realserver_down realserver:web/10.0.2.12:80', 'realserver_down realserver:web/10.0.2.13:80'],
    services: { web: 'partial_outage' },
  },
  {
    name: 'every real server down',
    nodes: (s) => fleet(s, { dr1: { vrrp: M, down: ['rs1', 'rs2', 'rs3'], quorumLost: ['web'] } }),
    state: 'major_outage',
    colour: 'red',
    reasons: [
      'all_realservers_down service:web',
      'quorum_lost service:web',
      'realserver_down realserver:web/10.0.2.11:80',
      'realserver_down realserver:web/10.0.2.12:80',
      'realserver_down realserver:web/10.0.2.13:80',
    ],
    services: { web: 'major_outage' },
  },
  {
    name: 'quorum lost while one real server is still up',
    nodes: (s) => fleet(s, { dr1: { vrrp: M, down: ['rs2'], quorumLost: ['web'] } }),
    state: 'major_outage',
    colour: 'red',
    reasons: ['quorum_lost service:web', 'realserver_down realserver:web/10.0.2.12:80'],
    services: { web: 'major_outage' },
  },
  {
    name: "the master's checks win over the backup's",
    nodes: (s) => fleet(s, { dr2: { vrrp: B, down: ['rs1', 'rs2', 'rs3'] } }),
    state: 'operational',
    colour: 'green',
    reasons: [],
    services: { web: 'operational' },
  },
  {
    name: "the backup's checks count when the master is gone from view",
    nodes: (s) => fleet(s, { dr1: gone(report(s, 'dr1', { vrrp: M }), T0 - 1_000), dr2: { vrrp: M, down: ['rs3'] } }),
    state: 'degraded_performance',
    colour: 'yellow',
    reasons: ['node_offline node:dr1', 'realserver_down realserver:web/10.0.2.13:80'],
    vrrp: { VI_1: 'ok' },
    services: { web: 'degraded_performance' },
  },
  {
    name: 'real-server agent gone while its checks pass',
    nodes: (s) => fleet(s, { rs2: gone(report(s, 'rs2'), T0 - 1_000) }),
    state: 'degraded_performance',
    colour: 'yellow',
    reasons: ['node_offline node:rs2'],
    services: { web: 'operational' },
  },
  {
    name: 'a real-server node that never reported',
    nodes: (s) => fleet(s, { rs3: null }),
    state: 'degraded_performance',
    colour: 'yellow',
    reasons: ['never_reported node:rs3'],
    nodes_: { rs3: 'unknown' },
  },
  {
    name: 'a director behind the desired revision past the grace',
    nodes: (s) => fleet(s, { dr2: fresh(report(s, 'dr2', { applied: 1 }), T0, { revision: 2, at: T0 - 200_000 }) }),
    state: 'degraded_performance',
    colour: 'yellow',
    reasons: ['stale_revision node:dr2'],
    nodes_: { dr2: 'degraded' },
  },
  {
    name: 'a director behind the desired revision within the grace',
    nodes: (s) => fleet(s, { dr2: fresh(report(s, 'dr2', { applied: 1 }), T0, { revision: 2, at: T0 }) }),
    state: 'operational',
    colour: 'green',
    reasons: [],
    nodes_: { dr2: 'online' },
  },
  {
    name: 'apply failed on a director',
    nodes: (s) => fleet(s, { dr2: { vrrp: B, pending: 2, errors: ['ipvs: no such service'] } }),
    state: 'degraded_performance',
    colour: 'yellow',
    reasons: ['apply_failed node:dr2'],
    nodes_: { dr2: 'degraded' },
  },
  {
    name: 'IPVS out of step on the master',
    nodes: (s) => fleet(s, { dr1: { vrrp: M, ipvsError: 'ip_vs module missing' } }),
    state: 'degraded_performance',
    colour: 'yellow',
    reasons: ['ipvs_error node:dr1'],
  },
  {
    name: 'real-server setup drifted',
    nodes: (s) => fleet(s, { rs1: { roleDrift: ['arp_ignore=0'] } }),
    state: 'degraded_performance',
    colour: 'yellow',
    reasons: ['realserver_setup node:rs1'],
  },
  {
    name: 'service not in any director report yet (revision not applied)',
    nodes: (s) => fleet(s, { dr1: { vrrp: M, omit: ['web'] }, dr2: { vrrp: B, omit: ['web'] } }),
    state: 'unknown',
    colour: 'grey',
    reasons: ['service_missing service:web'],
    services: { web: 'unknown' },
  },
  {
    name: 'VRRP instance not in any report yet',
    nodes: (s) => fleet(s, { dr1: { vrrp: {} }, dr2: { vrrp: {} } }),
    state: 'unknown',
    colour: 'grey',
    reasons: ['instance_missing vrrp:VI_1'],
    vrrp: { VI_1: 'unknown' },
    services: { web: 'unknown' },
  },
  {
    name: 'a real server missing from the master report',
    nodes: (s) => fleet(s, { dr1: { vrrp: M, omit: ['web/rs3'] } }),
    state: 'unknown',
    colour: 'grey',
    reasons: ['realserver_missing realserver:web/10.0.2.13:80'],
    realServers: { 'web/rs3': 'unknown' },
  },
  {
    name: 'unchecked never counts as healthy: one checked and up, the rest unchecked',
    site: mixed,
    nodes: (s) => fleet(s),
    state: 'unknown',
    colour: 'grey',
    reasons: ['unchecked realserver:web/10.0.2.12:80', 'unchecked realserver:web/10.0.2.13:80'],
    services: { web: 'unknown' },
    realServers: { 'web/rs1': 'up', 'web/rs2': 'unchecked', 'web/rs3': 'unchecked' },
  },
  {
    name: 'the only checked real server down, the rest unchecked',
    site: mixed,
    nodes: (s) => fleet(s, { dr1: { vrrp: M, down: ['rs1'] } }),
    state: 'partial_outage',
    colour: 'orange',
    reasons: ['realserver_down realserver:web/10.0.2.11:80', 'unchecked realserver:web/10.0.2.12:80', 'unchecked realserver:web/10.0.2.13:80'],
    services: { web: 'partial_outage' },
    realServers: { 'web/rs1': 'down', 'web/rs2': 'unchecked', 'web/rs3': 'unchecked' },
  },
  {
    name: 'two services, one entirely down: the worst bounds the site',
    site: two,
    nodes: (s) => fleet(s, { dr1: { vrrp: { VI_1: 'MASTER', VI_2: 'MASTER' }, down: ['rs1', 'rs2', 'rs3'] } }),
    state: 'major_outage',
    colour: 'red',
    reasons: [
      'all_realservers_down service:web',
      'realserver_down realserver:web/10.0.2.11:80',
      'realserver_down realserver:web/10.0.2.12:80',
      'realserver_down realserver:web/10.0.2.13:80',
      'all_realservers_down service:web2',
      'realserver_down realserver:web2/10.0.2.11:80',
      'realserver_down realserver:web2/10.0.2.12:80',
      'realserver_down realserver:web2/10.0.2.13:80',
    ],
  },
  {
    name: 'two instances, split brain on one only',
    site: two,
    nodes: (s) => fleet(s, { dr2: { vrrp: { VI_1: 'BACKUP', VI_2: 'MASTER' } } }),
    state: 'major_outage',
    colour: 'red',
    reasons: ['split_brain vrrp:VI_2'],
    vrrp: { VI_1: 'ok', VI_2: 'split_brain' },
    services: { web: 'operational', web2: 'partial_outage' },
  },
  {
    name: 'single director without VRRP, healthy',
    site: single,
    nodes: (s) => fleet(s),
    state: 'operational',
    colour: 'green',
    reasons: [],
    services: { web: 'operational' },
  },
  {
    name: 'single director without VRRP, gone',
    site: single,
    nodes: (s) => fleet(s, { dr1: gone(report(s, 'dr1'), T0 - 1_000) }),
    state: 'unknown',
    colour: 'grey',
    reasons: ['unreachable site', 'node_offline node:dr1', 'unreachable service:web'],
    services: { web: 'unknown' },
  },
  {
    name: 'a report exactly at the edge of the window still counts',
    nodes: (s) => fleet(s),
    now: T0 + WINDOW,
    state: 'operational',
    colour: 'green',
    reasons: [],
  },
  {
    name: 'one millisecond past the window every report is stale',
    nodes: (s) => fleet(s),
    now: T0 + WINDOW + 1,
    state: 'unknown',
    colour: 'grey',
    reasons: [
      'unreachable site',
      'stale_report node:dr1',
      'stale_report node:dr2',
      'stale_report node:rs1',
      'stale_report node:rs2',
      'stale_report node:rs3',
      'unreachable vrrp:VI_1',
      'unreachable service:web',
    ],
  },
];

describe('evaluateSite: fleet situations', () => {
  it('has at least 25 named situations', () => {
    expect(rows.length).toBeGreaterThanOrEqual(25);
    expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
  });

  it.each(rows.map((r) => [r.name, r] as const))('%s', (_, row) => {
    const s = row.site ?? site;
    const status = evaluateSite(null, { site: s, nodes: row.nodes(s), staleAfterMs: WINDOW, revisionGraceMs: row.revisionGraceMs }, row.now ?? NOW);
    expect(status.state).toBe(row.state);
    expect(badgeColour(status.state)).toBe(row.colour);
    expect(status.reasons.map((r) => `${r.code} ${r.subject}`).sort()).toEqual([...row.reasons].sort());
    for (const [name, st] of Object.entries(row.vrrp ?? {})) expect(status.vrrp.find((g) => g.instance === name)?.state, name).toBe(st);
    for (const [name, st] of Object.entries(row.services ?? {})) expect(status.services.find((x) => x.name === name)?.state, name).toBe(st);
    const addressOf = new Map(s.spec.nodes.map((n) => [n.name, n.address]));
    for (const [key, st] of Object.entries(row.realServers ?? {})) {
      const [svc, node] = key.split('/');
      const rs = status.services.find((x) => x.name === svc)?.realServers.find((r) => r.address === addressOf.get(node));
      expect(rs?.state, key).toBe(st);
    }
    for (const [name, st] of Object.entries(row.nodes_ ?? {})) expect(status.nodes.find((n) => n.name === name)?.state, name).toBe(st);
  });
});
