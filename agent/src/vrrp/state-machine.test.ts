import { describe, expect, it } from 'vitest';
import { initialState, nextDeadline, step } from './state-machine.ts';
import { masterDownIntervalMs, skewMs } from './timers.ts';
import { HOLD_UNSYNCED_MS, LINGER_MS } from './sync-daemons.ts';
import type { Action, Event, InstanceParams, InstanceState } from './types.ts';

const P: InstanceParams = {
  name: 'VI_1',
  vrid: 51,
  version: 2,
  priority: 100,
  primaryAddress: '10.99.0.11',
  advertIntervalMs: 1000,
  initialState: 'BACKUP',
  preempt: true,
  preemptDelayMs: 0,
  garp: { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, masterRefreshRepeat: 1 },
  connectionSync: false,
};

/** Runs events in order, returning the final state and all actions. */
function run(p: InstanceParams, events: [number, Event][], s0?: InstanceState) {
  let s = s0 ?? initialState(p, 0);
  const actions = [];
  for (const [t, e] of events) {
    const r = step(p, s, e, t);
    s = r.state;
    actions.push(...r.actions);
  }
  return { s, actions };
}
const adv = (source: string, priority: number, intervalMs = 1000): Event => ({ type: 'advert', source, priority, intervalMs });

describe('timers', () => {
  it('v2 and v3 master-down intervals (RFC 3768 §6.1, RFC 5798 §6.1)', () => {
    expect(skewMs(2, 100, 1000)).toBeCloseTo(609.375);
    expect(masterDownIntervalMs(2, 100, 1000)).toBeCloseTo(3609.375);
    expect(skewMs(3, 100, 100)).toBeCloseTo(60.9375);
    expect(masterDownIntervalMs(3, 100, 30)).toBeCloseTo(90 + 18.28125);
  });
});

describe('VRRP state machine', () => {
  it('starts in BACKUP and becomes MASTER after the master-down interval with no master', () => {
    const { s, actions } = run(P, [
      [0, { type: 'start' }],
      [3609, { type: 'timer' }],
    ]);
    expect(s.state).toBe('BACKUP');
    const r = step(P, s, { type: 'timer' }, 3610);
    expect(r.state.state).toBe('MASTER');
    expect(r.actions.map((a) => a.type)).toEqual(['transition', 'notify', 'send-advert', 'add-vips', 'garp']);
    expect(r.actions[0]).toMatchObject({ from: 'BACKUP', to: 'MASTER', reason: 'no master heard' });
    expect(actions.find((a) => a.type === 'transition')).toMatchObject({ from: 'INIT', to: 'BACKUP' });
  });
  it('priority 255 (owner) goes straight to MASTER', () => {
    const { s } = run({ ...P, priority: 255 }, [[0, { type: 'start' }]]);
    expect(s.state).toBe('MASTER');
  });
  it('state MASTER takes over after one interval plus skew', () => {
    const p = { ...P, initialState: 'MASTER' as const };
    expect(nextDeadline(run(p, [[0, { type: 'start' }]]).s)).toBeCloseTo(1609.375);
  });
  it('a backup hearing the master keeps resetting the down timer, then reports how long it waited', () => {
    const { s, actions } = run(P, [
      [0, { type: 'start' }],
      [100, adv('10.99.0.12', 200)],
      [1100, adv('10.99.0.12', 200)],
      [4800, { type: 'timer' }],
    ]);
    expect(s.state).toBe('MASTER');
    expect(actions.find((a) => a.type === 'transition' && a.to === 'MASTER')).toMatchObject({ reason: 'master down, 3700 ms' });
  });
  it('priority 0 from the master: takeover after Skew_Time only', () => {
    const { s } = run(P, [
      [0, { type: 'start' }],
      [100, adv('10.99.0.12', 200)],
      [500, adv('10.99.0.12', 0)],
    ]);
    expect(s.masterDownAt).toBeCloseTo(500 + 609.375);
    const r = step(P, s, { type: 'timer' }, 1110);
    expect(r.state.state).toBe('MASTER');
    expect(r.actions[0]).toMatchObject({ reason: 'master released (priority 0), 1010 ms' });
  });
  it('connection sync, graceful move: the old MASTER lingers before its VIPs go; the new one copies what it holds to it', () => {
    const p = { ...P, connectionSync: true };
    const m = run({ ...p, priority: 255 }, [[0, { type: 'start' }]]).s;
    const left = step(p, m, { type: 'track', effectivePriority: 100, fault: null, reason: 'x' }, 5);
    const down = step(p, left.state, adv('10.99.0.12', 200), 10);
    expect(down.state.state).toBe('BACKUP');
    const kinds = down.actions.map((a) => a.type);
    expect(kinds.slice(0, 2)).toEqual(['linger-vips', 'remove-vips']);
    expect(down.actions[0]).toEqual({ type: 'linger-vips', releaseAfterMs: LINGER_MS });

    // Released by priority 0: the new MASTER copies to the releasing director.
    const released = run(p, [
      [0, { type: 'start' }],
      [100, adv('10.99.0.12', 200)],
      [500, adv('10.99.0.12', 0)],
    ]).s;
    const r = step(p, released, { type: 'timer' }, 1110);
    expect(r.state.state).toBe('MASTER');
    expect(r.actions.find((a) => a.type === 'hold-unsynced')).toEqual({ type: 'hold-unsynced', releaseAfterMs: HOLD_UNSYNCED_MS, forwardTo: '10.99.0.12' });
    expect(r.state.handoverFrom).toBeNull();

    // Preempting a lower master: it steps down when it hears us, so it hands over too.
    const lower = run(p, [
      [0, { type: 'start' }],
      [100, adv('10.99.0.13', 50)],
    ]).s;
    const pre = step(p, lower, { type: 'timer' }, lower.masterDownAt!);
    expect(pre.actions.find((a) => a.type === 'hold-unsynced')).toMatchObject({ forwardTo: '10.99.0.13' });

    // A master that went silent (a crash) hands nothing over: no copies to a director that cannot answer.
    const heard = run(p, [
      [0, { type: 'start' }],
      [100, adv('10.99.0.12', 200)],
    ]).s;
    const crash = step(p, heard, { type: 'timer' }, heard.masterDownAt!);
    expect(crash.state.state).toBe('MASTER');
    expect(crash.actions.find((a) => a.type === 'hold-unsynced')).toEqual({ type: 'hold-unsynced', releaseAfterMs: HOLD_UNSYNCED_MS });
    // A released master heard again (it came back before we took over): no hand-over either.
    const back = run(
      p,
      [
        [500, adv('10.99.0.12', 0)],
        [600, adv('10.99.0.12', 200)],
      ],
      heard,
    ).s;
    expect(back.handoverFrom).toBeNull();
  });
  it('peer-down (BFD) from the master we hear: MASTER at once; from anyone else, or while MASTER: nothing', () => {
    const { s } = run(P, [
      [0, { type: 'start' }],
      [100, adv('10.99.0.12', 200)],
    ]);
    expect(step(P, s, { type: 'peer-down', address: '10.99.0.13', reason: 'BFD x down' }, 160)).toEqual({ state: s, actions: [] });
    const r = step(P, s, { type: 'peer-down', address: '10.99.0.12', reason: 'BFD dr-pair down' }, 160);
    expect(r.state.state).toBe('MASTER');
    expect(r.actions[0]).toMatchObject({ type: 'transition', to: 'MASTER', reason: 'master down (BFD dr-pair down, last advert 60 ms ago)' });
    expect(r.actions.some((a) => a.type === 'add-vips')).toBe(true);
    expect(step(P, r.state, { type: 'peer-down', address: '10.99.0.12', reason: 'again' }, 170).actions).toEqual([]);
  });

  it('v3 learns the master interval and computes skew from it (RFC 5798 §6.4.2)', () => {
    const p3 = { ...P, version: 3 as const, advertIntervalMs: 100 };
    const { s } = run(p3, [
      [0, { type: 'start' }],
      [10, adv('10.99.0.12', 200, 30)],
    ]);
    expect(s.masterAdverIntervalMs).toBe(30);
    expect(s.masterDownAt).toBeCloseTo(10 + 90 + (156 * 30) / 256);
  });
  it('preempt: a backup discards a lower master and takes over at the down interval', () => {
    const { s } = run(P, [
      [0, { type: 'start' }],
      [100, adv('10.99.0.12', 50)],
      [1100, adv('10.99.0.12', 50)],
    ]);
    expect(s.masterDownAt).toBeCloseTo(3609.375); // never reset by the lower master
    const r = step(P, s, { type: 'timer' }, 3610);
    expect(r.actions[0]).toMatchObject({ to: 'MASTER', reason: 'preempting lower priority 50' });
  });
  it('failover target: a lower master is taken over after Skew_Time, not the down interval', () => {
    const F = { ...P, priority: 254, failoverTarget: true };
    // The master's advert before it layered the failover (accepted), then its priority-1 advert.
    const { s } = run(F, [
      [0, { type: 'start' }],
      [100, adv('10.99.0.12', 254)],
      [1100, adv('10.99.0.12', 1)],
    ]);
    expect(s.masterDownAt).toBeCloseTo(1100 + skewMs(2, 254, 1000));
    const r = step(F, s, { type: 'timer' }, s.masterDownAt!);
    expect(r.actions[0]).toMatchObject({ to: 'MASTER', reason: 'preempting lower priority 1' });
    // Without the override the same backup waits for Master_Down_Interval after the last accepted advert.
    const plain = run({ ...F, failoverTarget: undefined }, [
      [0, { type: 'start' }],
      [100, adv('10.99.0.12', 254)],
      [1100, adv('10.99.0.12', 1)],
    ]);
    expect(plain.s.masterDownAt).toBeCloseTo(100 + masterDownIntervalMs(2, 254, 1000));
  });
  it('failover target: made one by a reload, it preempts on the advert it heard within the interval', () => {
    // Before the reload: an ordinary backup (100) under a master at 150, advert heard at 1100.
    const heard = run(P, [
      [0, { type: 'start' }],
      [100, adv('10.99.0.12', 150)],
      [1100, adv('10.99.0.12', 150)],
    ]).s;
    expect(heard.masterPriority).toBe(150);
    // The reload: priority 254 and failoverTarget, delivered as the track event the driver feeds.
    const F = { ...P, priority: 254, failoverTarget: true };
    const r = step(F, heard, { type: 'track', effectivePriority: 254, fault: null, reason: 'configuration' }, 1500);
    expect(r.actions).toEqual([]);
    expect(r.state.masterDownAt).toBeCloseTo(1500 + skewMs(2, 254, 1000));
    const t = step(F, r.state, { type: 'timer' }, r.state.masterDownAt!);
    expect(t.actions[0]).toMatchObject({ to: 'MASTER', reason: 'preempting lower priority 150' });
    // The master it preempts is the one handing over: its linger gets the held packets' copies.
    expect(t.state.state).toBe('MASTER');
    // Heard more than an interval ago: the master may be gone or slow; wait for its next advert.
    const stale = step(F, heard, { type: 'track', effectivePriority: 254, fault: null, reason: 'configuration' }, 2200);
    expect(stale.state.masterDownAt).toBe(heard.masterDownAt);
    // Not a failover target, or still below the master: nothing changes.
    const plain = step({ ...P, priority: 254 }, heard, { type: 'track', effectivePriority: 254, fault: null, reason: 'configuration' }, 1500);
    expect(plain.state.masterDownAt).toBe(heard.masterDownAt);
    const below = step(F, heard, { type: 'track', effectivePriority: 140, fault: null, reason: 'tracking' }, 1500);
    expect(below.state.masterDownAt).toBe(heard.masterDownAt);
  });
  it('failover target: the lower advert it discarded before its reload counts as heard', () => {
    // The master read the failover first and advertises 1; this backup (preempt, 100) discards it.
    const before = run(P, [
      [0, { type: 'start' }],
      [100, adv('10.99.0.12', 150)],
      [1100, adv('10.99.0.12', 1)],
    ]).s;
    expect(before.masterDownAt).toBeCloseTo(100 + masterDownIntervalMs(2, 100, 1000));
    const F = { ...P, priority: 254, failoverTarget: true };
    const r = step(F, before, { type: 'track', effectivePriority: 254, fault: null, reason: 'configuration' }, 1400);
    expect(r.state.masterDownAt).toBeCloseTo(1400 + skewMs(2, 254, 1000));
    expect(r.state.preempting).toBe(1);
  });
  it('nopreempt: a lower master is accepted', () => {
    const { s } = run({ ...P, preempt: false }, [
      [0, { type: 'start' }],
      [3000, adv('10.99.0.12', 50)],
    ]);
    expect(s.masterDownAt).toBeCloseTo(3000 + 3609.375);
  });
  it('preempt_delay: a lower master is tolerated for the delay, then preempted', () => {
    const p = { ...P, preemptDelayMs: 5000 };
    const { s } = run(p, [
      [0, { type: 'start' }],
      [100, adv('10.99.0.12', 50)],
      [4000, adv('10.99.0.12', 50)],
    ]);
    expect(s.masterDownAt).toBeCloseTo(4000 + 3609.375);
    const after = run(p, [[5200, adv('10.99.0.12', 50)]], s).s;
    expect(after.masterDownAt).toBeCloseTo(4000 + 3609.375);
  });
  it('a master steps down for a higher priority, and for an equal priority with a higher address', () => {
    const m = run({ ...P, priority: 255 }, [[0, { type: 'start' }]]).s;
    const p = { ...P, priority: 100 };
    const master = { ...m, effectivePriority: 100 };
    expect(step(p, master, adv('10.99.0.12', 150), 10).state.state).toBe('BACKUP');
    const eqHigher = step(p, master, adv('10.99.0.12', 100), 10);
    expect(eqHigher.state.state).toBe('BACKUP');
    expect(eqHigher.actions.map((a) => a.type)).toContain('remove-vips');
    const eqLower = step(p, master, adv('10.99.0.10', 100), 10);
    expect(eqLower.state.state).toBe('MASTER');
    expect(eqLower.actions).toEqual([
      { type: 'send-advert', priority: 100 },
      { type: 'garp', count: 5 },
    ]);
  });
  it('a master hearing a lower-priority master forces a new election: advert and GARP burst (keepalived vrrp_garp_lower_prio_repeat)', () => {
    const m = run({ ...P, priority: 255 }, [[0, { type: 'start' }]]).s;
    const p = { ...P, priority: 100 };
    const master = { ...m, effectivePriority: 100 };
    const r = step(p, master, adv('10.99.0.12', 90), 500);
    expect(r.state.state).toBe('MASTER');
    expect(r.actions).toEqual([
      { type: 'send-advert', priority: 100 },
      { type: 'garp', count: 5 },
    ]);
    expect(r.state.advertAt).toBe(500 + P.advertIntervalMs);
    // Repeated one interval later, after the other router's own takeover burst; once.
    expect(nextDeadline(r.state)).toBe(1500);
    const repeat = step(p, r.state, { type: 'timer' }, 1500);
    expect(repeat.actions).toEqual([
      { type: 'send-advert', priority: 100 },
      { type: 'garp', count: 5 },
    ]);
    expect(repeat.state.lowerPrioGarpAt).toBeNull();
    expect(step(p, repeat.state, { type: 'timer' }, 2500).actions).toEqual([{ type: 'send-advert', priority: 100 }]);
    // Its own repeat count when configured.
    expect(step({ ...p, garp: { ...p.garp, lowerPrioRepeat: 2 } }, master, adv('10.99.0.12', 90), 500).actions[1]).toEqual({ type: 'garp', count: 2 });
    // A release (priority 0) is not a competing master: advert only.
    expect(step(p, master, adv('10.99.0.12', 0), 500).actions).toEqual([{ type: 'send-advert', priority: 100 }]);
  });
  it('every way back to MASTER announces the VIPs (GARP burst)', () => {
    const entries: [string, InstanceParams, [number, Event][]][] = [
      [
        'master down',
        P,
        [
          [0, { type: 'start' }],
          [4000, { type: 'timer' }],
        ],
      ],
      ['owner start', { ...P, priority: 255 }, [[0, { type: 'start' }]]],
      [
        'owner fault cleared',
        { ...P, priority: 255 },
        [
          [0, { type: 'start' }],
          [10, { type: 'track', effectivePriority: 255, fault: 'eth0 down', reason: 'link' }],
          [20, { type: 'track', effectivePriority: 255, fault: null, reason: 'link' }],
        ],
      ],
      [
        'sync group',
        P,
        [
          [0, { type: 'start' }],
          [10, { type: 'sync', to: 'MASTER', member: 'VI_2' }],
        ],
      ],
      [
        'preempting after a spurious takeover',
        P,
        [
          [0, { type: 'start' }],
          [100, adv('10.99.0.12', 50)],
          [4000, { type: 'timer' }],
          [4100, adv('10.99.0.12', 200)],
          [8000, { type: 'timer' }],
        ],
      ],
    ];
    for (const [why, p, events] of entries) {
      const { actions } = run(p, events);
      const toMaster = actions.map((a, i) => [a, i] as const).filter(([a]) => a.type === 'transition' && a.to === 'MASTER');
      expect(toMaster.length, why).toBeGreaterThan(0);
      for (const [, i] of toMaster)
        expect(
          actions.slice(i).find((a) => a.type === 'garp'),
          why,
        ).toEqual({ type: 'garp', count: 5 });
    }
  });
  it('a master sends adverts every interval and the GARP bursts (garp_master_delay, refresh)', () => {
    const p = { ...P, priority: 255, garp: { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 60000, masterRefreshRepeat: 2 } };
    const { actions } = run(p, [
      [0, { type: 'start' }],
      [1000, { type: 'timer' }],
      [2001, { type: 'timer' }],
      [5000, { type: 'timer' }],
      [65000, { type: 'timer' }],
    ]);
    expect(actions.filter((a) => a.type === 'garp')).toEqual([
      { type: 'garp', count: 5 },
      { type: 'garp', count: 5 },
      { type: 'garp', count: 2 },
    ]);
    expect(actions.filter((a) => a.type === 'send-advert').length).toBe(5);
  });
  it('graceful stop: MASTER sends priority 0, removes VIPs, notifies STOP', () => {
    const m = run({ ...P, priority: 255, connectionSync: true }, [[0, { type: 'start' }]]).s;
    const r = step({ ...P, priority: 255, connectionSync: true }, m, { type: 'shutdown' }, 5);
    expect(r.state.state).toBe('STOP');
    expect(r.actions).toEqual([
      { type: 'send-advert', priority: 0 },
      // A stopping director does not linger: nothing of it is left behind.
      { type: 'linger-vips', releaseAfterMs: 0 },
      { type: 'remove-vips' },
      { type: 'transition', from: 'MASTER', to: 'STOP', reason: 'shutdown', sync: false },
      { type: 'notify', state: 'STOP', priority: 255 },
      { type: 'sync-daemon', daemons: [] },
      { type: 'hold-unsynced', releaseAfterMs: 0 },
    ]);
    expect(step(P, r.state, { type: 'timer' }, 10).actions).toEqual([]);
  });
  it('tracking: fault on link loss releases the VRID, recovery returns to BACKUP; priority changes are advertised', () => {
    const p = { ...P, priority: 255 };
    const m = run(p, [[0, { type: 'start' }]]).s;
    const f = step(p, m, { type: 'track', effectivePriority: 255, fault: 'interface eth0 down', reason: 'link' }, 10);
    expect(f.state.state).toBe('FAULT');
    expect(f.actions.slice(0, 2)).toEqual([{ type: 'send-advert', priority: 0 }, { type: 'remove-vips' }]);
    const back = step(P, { ...f.state }, { type: 'track', effectivePriority: 100, fault: null, reason: 'link up' }, 20);
    expect(back.state.state).toBe('BACKUP');
    const m2 = run(P, [
      [0, { type: 'start' }],
      [4000, { type: 'timer' }],
    ]).s;
    const lowered = step(P, m2, { type: 'track', effectivePriority: 70, fault: null, reason: 'script' }, 4100);
    expect(lowered.actions).toEqual([{ type: 'send-advert', priority: 70 }]);
    expect(lowered.state.effectivePriority).toBe(70);
  });
  it('sync group: FAULT of a member faults us; CLEAR returns us to BACKUP; MASTER/BACKUP follow', () => {
    const b = run(P, [[0, { type: 'start' }]]).s;
    const f = step(P, b, { type: 'sync', to: 'FAULT', member: 'VI_2' }, 10);
    expect(f.state.state).toBe('FAULT');
    expect(f.actions[0]).toMatchObject({ type: 'transition', sync: true, reason: 'sync group: VI_2 went FAULT' });
    expect(step(P, f.state, { type: 'sync', to: 'CLEAR', member: 'VI_2' }, 20).state.state).toBe('BACKUP');
    const m = step(P, b, { type: 'sync', to: 'MASTER', member: 'VI_2' }, 30);
    expect(m.state.state).toBe('MASTER');
    expect(step(P, m.state, { type: 'sync', to: 'BACKUP', member: 'VI_2' }, 40).state.state).toBe('BACKUP');
  });
  it('connection sync: both daemons from the start, untouched by transitions; unsynced connections held but for MASTER after its window', () => {
    const p = { ...P, connectionSync: true };
    const { s: m, actions } = run(p, [
      [0, { type: 'start' }],
      [4000, { type: 'timer' }],
    ]);
    expect(m.state).toBe('MASTER');
    const sync = (as: Action[]) => as.filter((a) => a.type === 'sync-daemon' || a.type === 'hold-unsynced');
    expect(sync(actions)).toEqual([
      { type: 'sync-daemon', daemons: ['master', 'backup'] },
      { type: 'hold-unsynced', releaseAfterMs: null },
      { type: 'hold-unsynced', releaseAfterMs: HOLD_UNSYNCED_MS },
    ]);
    // Demoted by a higher advert: the daemons keep running (the last buffer still goes out), the hold returns.
    const b = step(p, m, adv('10.0.0.9', 200), 4100);
    expect(b.state.state).toBe('BACKUP');
    expect(sync(b.actions)).toEqual([{ type: 'hold-unsynced', releaseAfterMs: null }]);
    // No connection sync: neither.
    expect(
      sync(
        run(P, [
          [0, { type: 'start' }],
          [4000, { type: 'timer' }],
        ]).actions,
      ),
    ).toEqual([]);
  });
});

describe('maintenance (lvsfleet drain/maintenance override)', () => {
  const M: InstanceParams = { ...P, priority: 1, maintenance: true };
  const master = () =>
    run(P, [
      [0, { type: 'start' }],
      [3610, { type: 'timer' }],
    ]).s;

  it('a MASTER put in maintenance keeps the VIPs at priority 1 until the peer preempts, then stays BACKUP', () => {
    const s0 = master();
    expect(s0.state).toBe('MASTER');
    // The driver swaps the params and re-tracks: the new priority is advertised at once.
    const t = step(M, s0, { type: 'track', effectivePriority: 1, fault: null, reason: 'configuration' }, 4000);
    expect(t.state.state).toBe('MASTER');
    expect(t.actions).toEqual([{ type: 'send-advert', priority: 1 }]);
    // The peer (priority 90, preempt) takes over after its master-down interval and advertises.
    const h = step(M, t.state, adv('10.99.0.12', 90), 7700);
    expect(h.state.state).toBe('BACKUP');
    expect(h.actions.map((a) => a.type)).toEqual(['remove-vips', 'transition', 'notify']);
    // The peer goes silent: in maintenance this director never takes MASTER back, however long it waits.
    let s = h.state;
    for (let now = 8000; now < 60_000; now += 500) {
      const r = step(M, s, { type: 'timer' }, now);
      expect(r.actions).toEqual([]);
      s = r.state;
    }
    expect(s.state).toBe('BACKUP');
    expect(nextDeadline(s)).not.toBeNull();
    // A sync-group partner going MASTER does not drag it along either.
    expect(step(M, s, { type: 'sync', to: 'MASTER', member: 'VI_2' }, 60_000).state.state).toBe('BACKUP');
  });

  it('with the peer confirmed ready (BFD Up), a MASTER in maintenance releases at once with priority 0', () => {
    const t = step(M, master(), { type: 'track', effectivePriority: 1, fault: null, reason: 'configuration' }, 4000);
    const r = step(M, t.state, { type: 'peer-ready', reason: 'BFD d2 up' }, 4001);
    expect(r.state.state).toBe('BACKUP');
    expect(r.actions[0]).toEqual({ type: 'send-advert', priority: 0 });
    expect(r.actions.find((a) => a.type === 'transition')).toMatchObject({ from: 'MASTER', to: 'BACKUP', reason: 'maintenance: handing over (BFD d2 up)' });
    // Outside maintenance, peer-ready changes nothing.
    expect(step(P, master(), { type: 'peer-ready', reason: 'BFD d2 up' }, 4001).actions).toEqual([]);
  });

  it('an address owner in maintenance starts as BACKUP; after the override it preempts back as usual', () => {
    const { s } = run({ ...M, priority: 1 }, [[0, { type: 'start' }]]);
    expect(s.state).toBe('BACKUP');
    // Override over: normal params again (re-tracked to 100); the master it hears has a lower priority → preempt after the down interval.
    const tracked = step(P, s, { type: 'track', effectivePriority: 100, fault: null, reason: 'configuration' }, 900);
    const back = step(P, tracked.state, adv('10.99.0.12', 90), 1000);
    expect(back.state.state).toBe('BACKUP');
    const r = step(P, back.state, { type: 'timer' }, back.state.masterDownAt!);
    expect(r.state.state).toBe('MASTER');
    expect(r.actions[0]).toMatchObject({ reason: 'preempting lower priority 90' });
  });
});
