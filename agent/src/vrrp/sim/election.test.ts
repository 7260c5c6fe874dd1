import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { masterDownIntervalMs } from '../timers.ts';
import type { InstanceParams } from '../types.ts';
import { rng, SimNetwork } from './network.ts';

const garp = { masterDelayMs: 0, masterRepeat: 1, masterRefreshMs: 0, masterRefreshRepeat: 1 };

/** A random chaos schedule: phases of loss, delay and partitions, then a heal. */
const scenario = fc.record({
  seed: fc.integer(),
  version: fc.constantFrom(2 as const, 3 as const),
  advert: fc.constantFrom(30, 100, 1000),
  preempt: fc.boolean(),
  priorities: fc.array(fc.integer({ min: 1, max: 254 }), { minLength: 2, maxLength: 5 }),
  initialMaster: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
  phases: fc.array(
    fc.record({
      lengthAdverts: fc.integer({ min: 1, max: 30 }),
      loss: fc.constantFrom(0, 0.1, 0.5, 0.9, 1),
      delayMax: fc.constantFrom(0, 0.2, 0.6, 1.5), // × advert
      partition: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 5, maxLength: 5 }),
      /** Track script moves: new effective priority for one router, or none. */
      track: fc.option(fc.record({ router: fc.nat(4), priority: fc.integer({ min: 1, max: 254 }) })),
    }),
    { minLength: 1, maxLength: 4 },
  ),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function simulate(sc: Scenario) {
  const advertMs = sc.version === 2 ? 1000 : sc.advert;
  const params: InstanceParams[] = sc.priorities.map((priority, i) => ({
    name: 'VI_1',
    vrid: 7,
    version: sc.version,
    priority,
    primaryAddress: `10.77.0.${10 + i}`,
    advertIntervalMs: advertMs,
    initialState: sc.initialMaster[i] ? 'MASTER' : 'BACKUP',
    preempt: sc.preempt,
    preemptDelayMs: 0,
    garp,
    connectionSync: false,
  }));
  const net = new SimNetwork(params, rng(sc.seed));
  params.forEach((_, i) => net.feed(i, { type: 'start' }));
  const heals: { at: number; masters: number[]; masterPriority: number[]; bestPriority: number; checkedUntil: number; violation: string | null }[] = [];
  for (const ph of sc.phases) {
    // Chaos.
    net.cond = { loss: ph.loss, delayMinMs: 0, delayMaxMs: ph.delayMax * advertMs };
    net.routers.forEach((r, i) => (r.group = ph.partition[i]));
    if (ph.track && ph.track.router < params.length)
      net.feed(ph.track.router, { type: 'track', effectivePriority: ph.track.priority, fault: null, reason: 'sim' });
    net.runUntil(net.now + ph.lengthAdverts * advertMs);
    // Heal: one segment, no loss, delay well under an advert.
    net.cond = { loss: 0, delayMinMs: 0, delayMaxMs: advertMs / 20 };
    net.routers.forEach((r) => (r.group = 0));
    const healAt = net.now;
    const prios = net.routers.map((r) => r.s.effectivePriority);
    const lowest = Math.min(...prios);
    // RFC 5798: the slowest backup gives up on a silent master after its Master_Down_Interval;
    // a lower master hears the winner's advert within one interval (+ delivery).
    const settle = masterDownIntervalMs(sc.version, lowest, advertMs) + advertMs + 2 * (advertMs / 20) + 1;
    net.runUntil(healAt + settle);
    const masters = net.masters();
    const heal = {
      at: healAt,
      masters,
      masterPriority: masters.map((i) => net.routers[i].s.effectivePriority),
      bestPriority: Math.max(...prios),
      checkedUntil: 0,
      violation: null as string | null,
    };
    // And it stays so for the next ten intervals: no flapping.
    net.onEvent = () => {
      const m = net.masters();
      if (m.length !== 1 && !heal.violation) heal.violation = `at +${Math.round(net.now - healAt)} ms masters ${JSON.stringify(m)}`;
    };
    net.runUntil(net.now + 10 * advertMs);
    net.onEvent = null;
    heal.checkedUntil = net.now;
    heals.push(heal);
  }
  return { net, heals };
}

describe('deterministic VRRP election simulation', () => {
  it('after every heal: exactly one MASTER within the master-down interval, the highest priority when preempting', () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        const { heals } = simulate(sc);
        for (const h of heals) {
          expect(h.masters, `heal at ${h.at}: masters ${JSON.stringify(h.masters)}`).toHaveLength(1);
          expect(h.violation).toBeNull();
          if (sc.preempt) expect(h.masterPriority).toEqual([h.bestPriority]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic: the same seed gives the same history', () => {
    const sc = fc.sample(scenario, { seed: 42, numRuns: 1 })[0];
    const a = simulate(sc);
    const b = simulate(sc);
    expect(a.net.routers.map((r) => [r.s.state, r.transitions])).toEqual(b.net.routers.map((r) => [r.s.state, r.transitions]));
  });

  it('a cut link makes two masters (split brain) and the heal leaves one', () => {
    const p = (prio: number, i: number): InstanceParams => ({
      name: 'VI_1',
      vrid: 7,
      version: 3,
      priority: prio,
      primaryAddress: `10.77.0.${10 + i}`,
      advertIntervalMs: 100,
      initialState: 'BACKUP',
      preempt: true,
      preemptDelayMs: 0,
      garp,
      connectionSync: false,
    });
    const net = new SimNetwork([p(150, 0), p(100, 1)], rng(1));
    net.feed(0, { type: 'start' });
    net.feed(1, { type: 'start' });
    net.runUntil(1000);
    expect(net.masters()).toEqual([0]);
    net.routers[1].group = 1;
    net.runUntil(2000);
    expect(net.masters()).toEqual([0, 1]);
    net.routers[1].group = 0;
    net.runUntil(2200);
    expect(net.masters()).toEqual([0]);
  });
});
