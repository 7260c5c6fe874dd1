import { describe, expect, it } from 'vitest';
import type { SiteStatusView } from '../pages/status-view.ts';
import { evaluateSite, type AlertState } from './evaluate.ts';

function view(masters: string[], stale = false): SiteStatusView {
  return {
    site: 's',
    revision: 2,
    generatedAt: '2026-01-01T00:00:00.000Z',
    overall: 'degraded',
    nodes: [{ name: 'rs1', role: 'realserver', online: true, appliedRevision: 1, desiredRevision: 2, stale }],
    vrrp: [
      {
        instance: 'VI_1',
        vrid: 50,
        masters,
        states: [
          { node: 'd1', state: masters.includes('d1') ? 'MASTER' : 'BACKUP' },
          { node: 'd2', state: masters.includes('d2') ? 'MASTER' : 'BACKUP' },
        ],
        problem: masters.length > 1 ? 'split_brain' : masters.length === 0 ? 'no_master' : null,
      },
    ],
    services: [],
  };
}

describe('evaluateSite', () => {
  it('raises split brain once, only after it has lasted, and again after it cleared', () => {
    let state: AlertState = {};
    let r = evaluateSite(state, view(['d1', 'd2']), 0);
    expect(r.events).toEqual([]);
    r = evaluateSite(r.state, view(['d1', 'd2']), 4_999);
    expect(r.events).toEqual([]);
    r = evaluateSite(r.state, view(['d1', 'd2']), 5_000);
    expect(r.events.map((e) => [e.type, e.data.nodes])).toEqual([['site.split_brain', ['d1', 'd2']]]);
    r = evaluateSite(r.state, view(['d1', 'd2']), 60_000);
    expect(r.events).toEqual([]);
    r = evaluateSite(r.state, view(['d1']), 61_000);
    expect(r.state).toEqual({});
    state = r.state;
    r = evaluateSite(state, view(['d1', 'd2']), 70_000);
    r = evaluateSite(r.state, view(['d1', 'd2']), 75_000);
    expect(r.events).toHaveLength(1);
  });

  it('ignores a split shorter than the debounce (a normal VRRP takeover)', () => {
    let r = evaluateSite({}, view(['d1', 'd2']), 0);
    r = evaluateSite(r.state, view(['d2']), 1_000);
    r = evaluateSite(r.state, view(['d2']), 10_000);
    expect(r.events).toEqual([]);
  });

  it('raises no_master and stale revision with their own delays', () => {
    let r = evaluateSite({}, view([], true), 0);
    r = evaluateSite(r.state, view([], true), 5_000);
    expect(r.events.map((e) => e.type)).toEqual(['site.no_master']);
    r = evaluateSite(r.state, view([], true), 120_000);
    expect(r.events.map((e) => [e.type, e.nodeId])).toEqual([['node.stale_revision', 's.rs1']]);
  });
});
