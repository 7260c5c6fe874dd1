import { describe, expect, it } from 'vitest';
import { conditionsOf } from '#shared/status/conditions.ts';
import { evaluateSite, type NodeInput } from '#shared/status/evaluate.ts';
import type { SiteStatus } from '#shared/status/model.ts';
import { fresh, gone, makeSite, report, T0, WINDOW } from '#shared/status/status.test-support.ts';
import { spokenDuration, stepAlerts, type AlertState } from './evaluate.ts';

const site = makeSite({ name: 'lab' });
const base = (at: number): Record<string, NodeInput> => ({
  dr1: fresh(report(site, 'dr1', { vrrp: { VI_1: 'MASTER' } }, at), at),
  dr2: fresh(report(site, 'dr2', {}, at), at),
  rs1: fresh(report(site, 'rs1', {}, at), at),
  rs2: fresh(report(site, 'rs2', {}, at), at),
  rs3: fresh(report(site, 'rs3', {}, at), at),
});
const splitBrain = (at: number) => ({ ...base(at), dr2: fresh(report(site, 'dr2', { vrrp: { VI_1: 'MASTER' } }, at), at) });
const dark = (at: number) => ({
  ...base(at),
  dr1: gone(report(site, 'dr1', { vrrp: { VI_1: 'MASTER' } }, at - 1000), at - 500),
  dr2: gone(report(site, 'dr2', {}, at - 1000), at - 500),
});

/** Runs the model and the alert step every 2 s over a timeline of report sets, like the alerter. */
function run(timeline: [number, (at: number) => Record<string, NodeInput>][], until: number) {
  let prev: SiteStatus | null = null;
  let state: AlertState = {};
  const out: { at: number; type: string; data: Record<string, unknown> }[] = [];
  for (let t = T0; t <= until; t += 2_000) {
    const make = [...timeline].reverse().find(([from]) => t >= from)![1];
    prev = evaluateSite(prev, { site, nodes: make(t), staleAfterMs: WINDOW }, t);
    const r = stepAlerts(state, 'lab', conditionsOf(prev), t, { debounceMs: 5_000 });
    state = r.state;
    for (const c of r.changes) out.push({ at: t - T0, type: c.event.type, data: c.event.data });
  }
  return { out, state };
}

describe('alert lifecycle from the status model', () => {
  it('raises a split brain after the debounce, once, and resolves it with its duration', () => {
    const { out, state } = run(
      [
        [T0, base],
        [T0 + 10_000, splitBrain],
        [T0 + 40_000, base],
      ],
      T0 + 60_000,
    );
    expect(out.map((e) => [e.at, e.type])).toEqual([
      [16_000, 'site.split_brain'],
      [40_000, 'site.split_brain.resolved'],
    ]);
    expect(out[0].data).toMatchObject({ key: 'site.split_brain|vrrp:VI_1', severity: 'critical' });
    expect(out[1].data).toMatchObject({ severity: 'critical', durationMs: 30_000, duration: '30s' });
    expect(state).toEqual({});
  });

  it('a blip shorter than the debounce raises nothing and resolves nothing', () => {
    const { out } = run(
      [
        [T0, base],
        [T0 + 10_000, splitBrain],
        [T0 + 14_000, base],
      ],
      T0 + 30_000,
    );
    expect(out).toEqual([]);
  });

  it('both directors gone: the site is unreachable (critical), each director offline (warning); one back resolves the site', () => {
    const { out } = run(
      [
        [T0, base],
        [T0 + 10_000, dark],
        [T0 + 30_000, (at) => ({ ...dark(at), dr1: fresh(report(site, 'dr1', { vrrp: { VI_1: 'MASTER' } }, at), at) })],
      ],
      T0 + 40_000,
    );
    const raised = out.filter((e) => !e.type.endsWith('.resolved'));
    expect(raised.map((e) => [e.type, e.data.severity]).sort()).toEqual([
      ['node.offline', 'warning'],
      ['node.offline', 'warning'],
      ['site.unreachable', 'critical'],
    ]);
    const resolved = out.filter((e) => e.type.endsWith('.resolved'));
    expect(resolved.map((e) => [e.type, e.data.subject]).sort()).toEqual([
      ['node.offline.resolved', 'node:dr1'],
      ['site.unreachable.resolved', 'site'],
    ]);
    expect(resolved.find((e) => e.type === 'site.unreachable.resolved')!.data.durationMs).toBe(20_000);
  });

  it('an open alert loaded after a restart is not raised again, and still resolves', () => {
    const open: AlertState = {
      'site.split_brain|vrrp:VI_1': {
        key: 'site.split_brain|vrrp:VI_1',
        type: 'site.split_brain',
        severity: 'critical',
        subject: 'vrrp:VI_1',
        summary: 'dr1 and dr2 are both MASTER',
        firstSeenAt: T0 - 60_000,
        raisedAt: T0 - 55_000,
      },
    };
    const during = evaluateSite(null, { site, nodes: splitBrain(T0), staleAfterMs: WINDOW }, T0);
    expect(stepAlerts(open, 'lab', conditionsOf(during), T0).changes).toEqual([]);
    const after = evaluateSite(during, { site, nodes: base(T0 + 2_000), staleAfterMs: WINDOW }, T0 + 2_000);
    const { changes } = stepAlerts(open, 'lab', conditionsOf(after), T0 + 2_000);
    expect(changes.map((c) => [c.event.type, c.event.data.durationMs])).toEqual([['site.split_brain.resolved', 62_000]]);
    expect(changes[0].event.summary).toBe('resolved after 1m 2s: dr1 and dr2 are both MASTER');
  });

  it('says durations as people do', () => {
    expect([spokenDuration(12_400), spokenDuration(250_000), spokenDuration(3 * 3600_000 + 120_000)]).toEqual(['12s', '4m 10s', '3h 2m']);
  });
});
