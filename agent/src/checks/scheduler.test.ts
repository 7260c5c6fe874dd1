import { describe, expect, it } from 'vitest';
import { DEADLINE_GRACE_MS, initialState, nextWakeAt, step } from './scheduler.ts';
import { check, FAIL, OK, service, Sim } from './scheduler-sim.test-support.ts';
import { targetKey } from './types.ts';

const key = (svc: string, port: number) => targetKey(svc, '127.0.0.1', port);

describe('health-check scheduler (virtual clock)', () => {
  it('keeps a healthy server up and probes it every delay_loop', () => {
    const sim = new Sim([service('web', [8080], check())], () => OK, 20);
    sim.run(20_000);
    expect(sim.transitions).toEqual([]);
    // next check is delay_loop after the previous one finished (keepalived schedules in the epilog)
    expect(sim.probes.map((p) => p.at)).toEqual([0, 5020, 10040, 15060]);
    expect(sim.state.targets.get(key('web', 8080))).toMatchObject({ up: true, detail: 'connected' });
  });

  it('goes down only after exactly `retries` further failures spaced retryDelay apart', () => {
    const sim = new Sim([service('web', [8080], check({ retries: 3, retryDelayMs: 1000 }))], (_p, now) => (now < 10_000 ? OK : FAIL));
    sim.run(30_000);
    const fails = sim.probes.filter((p) => p.at >= 10_000).map((p) => p.at);
    // first failure at 10000, then 3 retries 1 s apart; down on the last one, then delay_loop
    expect(fails.slice(0, 5)).toEqual([10_000, 11_000, 12_000, 13_000, 18_000]);
    expect(sim.transitions).toHaveLength(1);
    expect(sim.transitions[0]).toMatchObject({ at: 13_000, up: false, service: 'web', port: 8080, check: 'tcp', detail: 'connect ECONNREFUSED' });
  });

  it('with retries 0 goes down on the first failure', () => {
    const sim = new Sim([service('web', [1], check({ retries: 0 }))], () => FAIL);
    sim.run(1);
    expect(sim.transitions).toMatchObject([{ at: 0, up: false }]);
  });

  it('recovers on the first success after being down', () => {
    const sim = new Sim([service('web', [1], check({ retries: 1 }))], (_p, now) => (now < 3000 ? FAIL : OK));
    sim.run(20_000);
    expect(sim.transitions.map((t) => [t.at, t.up])).toEqual([
      [1000, false],
      [6000, true],
    ]);
  });

  it('rides out a flap shorter than the retries, but follows every flap with retries 0', () => {
    // fails on every other attempt: a retry always succeeds
    let n = 0;
    const flappy = () => (n++ % 2 === 0 ? FAIL : OK);
    const tolerant = new Sim([service('web', [1], check({ retries: 1 }))], flappy);
    tolerant.run(60_000);
    expect(tolerant.transitions).toEqual([]);
    expect(tolerant.state.targets.get(key('web', 1))!.up).toBe(true);

    n = 0;
    const strict = new Sim([service('web', [1], check({ retries: 0 }))], flappy);
    strict.run(29_000);
    expect(strict.transitions.map((t) => t.up)).toEqual([false, true, false, true, false, true]);
  });

  it('alpha: starts down and comes up on the first success', () => {
    const sim = new Sim([service('web', [1], check(), { alpha: true })], () => OK, 5);
    expect(sim.state.targets.get(key('web', 1))).toMatchObject({ up: false });
    sim.run(100);
    expect(sim.transitions).toMatchObject([{ at: 5, up: true }]);
  });

  it('alpha with a failing server stays down without a transition', () => {
    const sim = new Sim([service('web', [1], check(), { alpha: true })], () => FAIL);
    sim.run(20_000);
    expect(sim.transitions).toEqual([]);
    expect(sim.state.targets.get(key('web', 1))!.up).toBe(false);
  });

  it('warmup delays each first check randomly within [0, warmup], reproducibly from the seed', () => {
    const ports = Array.from({ length: 50 }, (_, i) => 1000 + i);
    const a = new Sim([service('web', ports, check({ warmupMs: 4000 }))], () => OK, 0, 7);
    const b = new Sim([service('web', ports, check({ warmupMs: 4000 }))], () => OK, 0, 7);
    a.run(4000);
    b.run(4000);
    const firsts = a.probes.map((p) => p.at);
    expect(firsts).toHaveLength(50);
    expect(firsts.every((t) => t >= 0 && t <= 4000)).toBe(true);
    expect(new Set(firsts).size).toBeGreaterThan(10);
    expect(b.probes).toEqual(a.probes);
  });

  it('shares one probe between services with identical checks and tells both', () => {
    const hc = check({ retries: 0 });
    const sim = new Sim([service('a', [9000], hc), service('b', [9000], hc)], (_p, now) => (now < 5000 ? OK : FAIL));
    sim.run(12_000);
    expect(sim.probes.map((p) => p.at)).toEqual([0, 5000, 10_000]);
    expect(sim.transitions.map((t) => `${t.service}:${t.up}@${t.at}`).sort()).toEqual(['a:false@5000', 'b:false@5000']);
  });

  it('does not share probes whose timing differs', () => {
    const sim = new Sim([service('a', [9000], check()), service('b', [9000], check({ intervalMs: 7000 }))], () => OK);
    sim.run(0);
    expect(sim.probes).toHaveLength(2);
  });

  it('config update keeps the state of unchanged targets and their probe schedule', () => {
    const hc = check({ retries: 0 });
    const sim = new Sim([service('web', [1, 2], hc)], (port) => (port === 1 ? FAIL : OK));
    sim.run(2000);
    expect(sim.state.targets.get(key('web', 1))!.up).toBe(false);
    const probesBefore = sim.probes.length;
    sim.update([service('web', [1, 2], hc), service('api', [3], hc)]);
    sim.run(2500);
    expect(sim.state.targets.get(key('web', 1))!.up).toBe(false);
    expect(sim.transitions).toHaveLength(1);
    // only the new target's probe ran; the others keep their delay_loop schedule
    expect(sim.probes.slice(probesBefore).map((p) => p.port)).toEqual([3]);
  });

  it('config update: a changed check keeps up/down, a removed check brings the server up, a removed target is forgotten', () => {
    const sim = new Sim([service('web', [1, 2], check({ retries: 0 }))], () => FAIL);
    sim.run(10);
    sim.update([service('web', [1], check({ retries: 0, intervalMs: 9000 })), service('web2', [2], null)]);
    expect(sim.state.targets.get(key('web', 1))!.up).toBe(false);
    expect(sim.state.targets.has(key('web', 2))).toBe(false);
    expect(sim.state.targets.get(key('web2', 2))).toMatchObject({ up: true, detail: 'no health check' });
    sim.update([service('web', [1], null)]);
    expect(sim.transitions.at(-1)).toMatchObject({ port: 1, up: true, check: 'none', detail: 'health check removed' });
    expect(sim.state.probes.size).toBe(0);
    expect(nextWakeAt(sim.state)).toBeNull();
  });

  it('cancels an in-flight probe whose last target is removed and ignores its late result', () => {
    const s = initialState();
    const hc = check();
    step(s, { type: 'config', services: [service('web', [1], hc)] }, 0);
    const [probe] = step(s, { type: 'tick' }, 0).actions;
    expect(probe.type).toBe('probe');
    const { actions } = step(s, { type: 'config', services: [] }, 10);
    expect(actions).toEqual([{ type: 'cancel', probe: (probe as { probe: string }).probe, attempt: (probe as { attempt: number }).attempt }]);
    expect(step(s, { type: 'result', probe: (probe as { probe: string }).probe, attempt: 1, outcome: FAIL }, 20).actions).toEqual([]);
  });

  it('fails an attempt whose checker never reports, after timeout + grace', () => {
    const sim = new Sim([service('web', [1], check({ retries: 0, timeoutMs: 1000 }))], () => OK);
    sim.silent = true;
    sim.run(5000);
    expect(sim.transitions[0]).toMatchObject({ at: 1000 + DEADLINE_GRACE_MS, up: false });
    expect(sim.transitions[0].detail).toMatch(/^timeout after 1000 ms/);
    expect(sim.cancels).toEqual([1]);
  });

  it('misc_dynamic: a weight change while up is a transition; weight rides along', () => {
    const weights = [5, 5, 9];
    let i = 0;
    const sim = new Sim([service('web', [1], check({ type: 'misc' }))], () => ({ ok: true, detail: 'exit 7', weight: weights[Math.min(i++, 2)] }));
    sim.run(11_000);
    expect(sim.transitions.map((t) => [t.at, t.up, t.weight])).toEqual([
      [0, true, 5],
      [10_000, true, 9],
    ]);
  });
});
