import { describe, expect, it } from 'vitest';
import { evaluateTracking, initialScriptState, scriptRun } from './tracking.ts';

const inst = { priority: 100, interface: 'eth0', dontTrackPrimary: false, trackInterfaces: [], trackScripts: [{ script: 'chk_nginx', weight: -30 }] };

describe('tracking', () => {
  it('rise/fall debounce a script', () => {
    let s = initialScriptState();
    s = scriptRun(s, false, 2, 3);
    s = scriptRun(s, false, 2, 3);
    expect(s.ok).toBe(true);
    s = scriptRun(s, false, 2, 3);
    expect(s.ok).toBe(false);
    s = scriptRun(s, true, 2, 3);
    s = scriptRun(s, false, 2, 3); // a failure resets the rise streak
    s = scriptRun(s, true, 2, 3);
    expect(s.ok).toBe(false);
    s = scriptRun(s, true, 2, 3);
    expect(s.ok).toBe(true);
  });
  it("the seeds' weight -30 nginx check lowers the priority while failing", () => {
    expect(evaluateTracking(inst, new Map([['chk_nginx', true]]), new Map()).effectivePriority).toBe(100);
    expect(evaluateTracking(inst, new Map([['chk_nginx', false]]), new Map())).toMatchObject({ effectivePriority: 70, fault: null });
  });
  it('positive weights add while healthy; weight 0 faults; clamps to 1-254; owner stays 255', () => {
    const i = {
      ...inst,
      trackScripts: [
        { script: 'a', weight: 200 },
        { script: 'b', weight: 0 },
      ],
    };
    expect(evaluateTracking(i, new Map(), new Map()).effectivePriority).toBe(254);
    expect(evaluateTracking(i, new Map([['b', false]]), new Map()).fault).toBe('script b failed');
    expect(evaluateTracking({ ...i, priority: 255 }, new Map([['a', false]]), new Map()).effectivePriority).toBe(255);
    const low = { ...inst, priority: 10, trackScripts: [{ script: 'a', weight: -50 }] };
    expect(evaluateTracking(low, new Map([['a', false]]), new Map()).effectivePriority).toBe(1);
  });
  it('track interfaces: weight 0 down → FAULT, primary interface tracked unless dont_track_primary', () => {
    const i = {
      ...inst,
      trackScripts: [],
      trackInterfaces: [
        { interface: 'eth1', weight: 0 },
        { interface: 'eth2', weight: -20 },
      ],
    };
    expect(evaluateTracking(i, new Map(), new Map([['eth1', false]])).fault).toBe('interface eth1 down');
    expect(evaluateTracking(i, new Map(), new Map([['eth2', false]])).effectivePriority).toBe(80);
    expect(evaluateTracking(i, new Map(), new Map([['eth0', false]])).fault).toBe('interface eth0 down');
    expect(evaluateTracking({ ...i, dontTrackPrimary: true }, new Map(), new Map([['eth0', false]])).fault).toBeNull();
  });
  it('track_bfd: not yet Up counts as Down (keepalived); weight 0 → FAULT, a weight moves the priority', () => {
    const i = {
      ...inst,
      trackScripts: [],
      trackBfd: [
        { name: 'gw', weight: 0 },
        { name: 'peer', weight: -20 },
        { name: 'up', weight: 10 },
      ],
    };
    expect(evaluateTracking(i, new Map(), new Map())).toMatchObject({ fault: 'BFD gw down', effectivePriority: 80 });
    const all = new Map([
      ['gw', true],
      ['peer', true],
      ['up', true],
    ]);
    expect(evaluateTracking(i, new Map(), new Map(), all)).toMatchObject({ fault: null, effectivePriority: 110, detail: 'BFD up up +10' });
    expect(evaluateTracking(i, new Map(), new Map(), new Map([...all, ['peer', false]])).effectivePriority).toBe(90);
  });
});
