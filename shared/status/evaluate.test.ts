import { describe, expect, it } from 'vitest';
import { conditionsOf } from './conditions.ts';
import { evaluateSite } from './evaluate.ts';
import { badgeColour, GROUP_STATES, NODE_STATES, REALSERVER_STATES, SITE_STATES } from './model.ts';
import { fresh, gone, makeSite, report, T0, WINDOW } from './status.test-support.ts';
import { topologyOf } from './topology.ts';
import { override } from '../overrides/overrides.test-support.ts';

const site = makeSite();
const M = { VI_1: 'MASTER' as const };
const healthy = (at = T0) => ({
  dr1: fresh(report(site, 'dr1', { vrrp: M }, at), at),
  dr2: fresh(report(site, 'dr2', {}, at), at),
  rs1: fresh(report(site, 'rs1', {}, at), at),
  rs2: fresh(report(site, 'rs2', {}, at), at),
  rs3: fresh(report(site, 'rs3', {}, at), at),
});
const input = (nodes: ReturnType<typeof healthy>) => ({ site, nodes, staleAfterMs: WINDOW });

describe('badge colours', () => {
  it('maps every state of every closed set', () => {
    const all = [...SITE_STATES, ...GROUP_STATES, ...REALSERVER_STATES, ...NODE_STATES].map((s) => [s, badgeColour(s)]);
    expect(Object.fromEntries(all)).toEqual({
      operational: 'green',
      ok: 'green',
      up: 'green',
      online: 'green',
      degraded_performance: 'yellow',
      degraded: 'yellow',
      partial_outage: 'orange',
      major_outage: 'red',
      split_brain: 'red',
      no_master: 'red',
      down: 'red',
      offline: 'red',
      unknown: 'grey',
      unchecked: 'grey',
    });
  });
});

describe('reasons in words', () => {
  it('names the node, the instance and the time', () => {
    const willAt = Date.parse('2026-11-30T02:14:00Z');
    const nodes = { ...healthy(willAt), dr1: gone(report(site, 'dr1', { vrrp: M }, willAt - 60_000), willAt) };
    nodes.dr2 = fresh(report(site, 'dr2', { vrrp: { VI_1: { state: 'BACKUP', since: willAt - 3_600_000 } } }, willAt + 1_000), willAt + 1_000);
    const s = evaluateSite(null, input(nodes), willAt + 5_000);
    expect(s.reasons.map((r) => r.text)).toEqual([
      'dr1 offline since 2026-11-30T02:14:00Z',
      // The master went out of view at 02:14; dr2 has been BACKUP for an hour.
      'VI_1: no director is MASTER since 2026-11-30T02:14:00Z (dr2 BACKUP)',
    ]);
    expect(s.vrrp[0].members).toEqual([
      { node: 'dr1', state: 'unseen' },
      { node: 'dr2', state: 'BACKUP' },
    ]);
  });

  it('dates a split brain from the later of the two MASTER transitions', () => {
    const nodes = healthy();
    nodes.dr1 = fresh(report(site, 'dr1', { vrrp: { VI_1: { state: 'MASTER', since: T0 - 600_000 } } }));
    nodes.dr2 = fresh(report(site, 'dr2', { vrrp: { VI_1: { state: 'MASTER', since: T0 - 20_000 } } }));
    const s = evaluateSite(null, input(nodes), T0 + 1_000);
    expect(s.vrrp[0]).toMatchObject({ state: 'split_brain', since: '2026-11-30T01:59:40Z', masters: ['dr1', 'dr2'] });
    expect(s.vrrp[0].reasons[0].text).toBe('dr1 and dr2 are both MASTER for VI_1 (VRID 51)');
  });

  it('never dates a condition after now, whatever the agent clock says', () => {
    const nodes = healthy();
    nodes.dr2 = fresh(report(site, 'dr2', { vrrp: { VI_1: { state: 'MASTER', since: T0 + 3_600_000 } } }));
    const s = evaluateSite(null, input(nodes), T0 + 1_000);
    expect(s.vrrp[0].reasons[0].since).toBe('2026-11-30T02:00:01Z');
  });
});

describe('a check that has not run yet', () => {
  it('is unchecked, not up, though the agent reports it healthy (keepalived starts real servers alive)', () => {
    const nodes = healthy();
    const dr1 = report(site, 'dr1', { vrrp: M });
    dr1.services![0].realServers[0] = { ...dr1.services![0].realServers[0], detail: 'not checked yet', checked: false };
    nodes.dr1 = fresh(dr1);
    const s = evaluateSite(null, input(nodes), T0 + 1_000);
    expect(s.services[0].realServers[0]).toMatchObject({ state: 'unchecked' });
    expect(s.services[0].realServers[0].reasons[0].text).toBe('web 10.0.2.11:80 has not been checked yet by dr1');
    expect(s.services[0].state).toBe('unknown');
    expect(s.state).not.toBe('operational');
  });
});

describe('since', () => {
  it('a condition keeps its since while it lasts, though every new report carries a new time', () => {
    const down = (at: number) => ({ ...healthy(at), dr1: fresh(report(site, 'dr1', { vrrp: M, down: ['rs2'] }, at), at) });
    const first = evaluateSite(null, input(down(T0)), T0 + 1_000);
    const second = evaluateSite(first, input(down(T0 + 30_000)), T0 + 31_000);
    const rs = (s: typeof first) => s.services[0].realServers[1];
    expect(rs(second)).toMatchObject({ state: 'down', since: '2026-11-30T02:00:00Z' });
    expect(rs(second).reasons[0]).toMatchObject({
      since: '2026-11-30T02:00:00Z',
      text: 'web 10.0.2.12:80 down since 2026-11-30T02:00:00Z: connection refused (checked by dr1)',
    });
    expect(second.since).toBe(first.since);
  });

  it('a state that changes starts a new since', () => {
    const first = evaluateSite(null, input(healthy()), T0 + 1_000);
    const nodes = { ...healthy(T0 + 20_000), dr1: fresh(report(site, 'dr1', { vrrp: M, down: ['rs2'] }, T0 + 20_000), T0 + 20_000) };
    const second = evaluateSite(first, input(nodes), T0 + 21_000);
    expect(first.services[0].state).toBe('operational');
    expect(second.services[0]).toMatchObject({ state: 'degraded_performance', since: '2026-11-30T02:00:20Z' });
  });

  it('a report going stale dates the staleness from the end of the window', () => {
    const s = evaluateSite(null, input(healthy()), T0 + WINDOW + 5_000);
    expect(s.state).toBe('unknown');
    expect(s.reasons[0]).toMatchObject({ code: 'unreachable', subject: 'site', since: '2026-11-30T02:01:00Z' });
    expect(s.nodes[0]).toMatchObject({ state: 'unknown', since: '2026-11-30T02:01:00Z', lastReportAt: '2026-11-30T02:00:00Z' });
  });

  it('ignores a previous status of another site', () => {
    const other = evaluateSite(null, { site: makeSite({ name: 'other' }), nodes: {}, staleAfterMs: WINDOW }, T0 - 600_000);
    const s = evaluateSite(other, input(healthy()), T0 + 1_000);
    expect(s.nodes[0].since).toBe('2026-11-30T02:00:00Z');
  });
});

describe('alert conditions', () => {
  it('a site out of view is one site.unreachable (critical) beside the nodes that went offline', () => {
    const nodes = { ...healthy(), dr1: gone(report(site, 'dr1', { vrrp: M }), T0 - 2_000), dr2: gone(report(site, 'dr2'), T0 - 1_000) };
    const c = conditionsOf(evaluateSite(null, input(nodes), T0 + 1_000));
    expect(c.map((x) => [x.type, x.severity, x.subject])).toEqual([
      ['site.unreachable', 'critical', 'site'],
      ['node.offline', 'warning', 'node:dr1'],
      ['node.offline', 'warning', 'node:dr2'],
    ]);
    expect(c[0].since).toBe('2026-11-30T01:59:59Z');
  });

  it('a service down for two reasons is one service.down', () => {
    const nodes = { ...healthy(), dr1: fresh(report(site, 'dr1', { vrrp: M, down: ['rs1', 'rs2', 'rs3'], quorumLost: ['web'] })) };
    const c = conditionsOf(evaluateSite(null, input(nodes), T0 + 1_000));
    expect(c.filter((x) => x.type === 'service.down')).toMatchObject([{ key: 'service.down|service:web', codes: ['all_realservers_down', 'quorum_lost'] }]);
    expect(c.filter((x) => x.type === 'realserver.down')).toHaveLength(3);
  });

  it('a healthy site holds none, split brain holds site.split_brain', () => {
    expect(conditionsOf(evaluateSite(null, input(healthy()), T0 + 1_000))).toEqual([]);
    const nodes = { ...healthy(), dr2: fresh(report(site, 'dr2', { vrrp: M })) };
    expect(conditionsOf(evaluateSite(null, input(nodes), T0 + 1_000)).map((x) => x.type)).toEqual(['site.split_brain']);
  });
});

describe('topology', () => {
  it('resolves real servers as the compiler does and is computed once per spec object', () => {
    const t = topologyOf(site);
    expect(topologyOf(site)).toBe(t);
    expect(t.services[0]).toMatchObject({ endpoint: 'tcp 10.0.0.100:80', group: 'VI_1', directors: ['dr1', 'dr2'], quorum: 1 });
    expect(t.services[0].realServers[0]).toEqual({ address: '10.0.2.11', port: 80, node: 'rs1', checked: true });
  });
});

describe('operational overrides in the status', () => {
  it('lists the active ones with their line for people; they change no state; expired ones are gone', () => {
    const drain = override('drain-realserver', { until: new Date(T0 + 90 * 60_000).toISOString() });
    const old = override('maintenance-director', { until: new Date(T0 - 1000).toISOString() });
    const s = evaluateSite(null, { ...input(healthy()), overrides: [drain, old] }, T0);
    expect(s.state).toBe(evaluateSite(null, input(healthy()), T0).state);
    expect(s.overrides).toEqual([
      { id: drain.id, kind: 'drain-realserver', until: drain.until, author: 'alice', text: 'rs1 drained for maintenance until 03:30 UTC by alice' },
    ]);
  });
});
