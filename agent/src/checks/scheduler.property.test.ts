import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check, FAIL, OK, service, Sim } from './scheduler-sim.test-support.ts';

/**
 * Reference model of keepalived's checker epilog, attempt by attempt: success → up; failure while
 * up → retry until `retries` retries have failed, then down; failure while down → stay down.
 */
function model(outcomes: boolean[], retries: number, startUp: boolean): boolean[] {
  let up = startUp;
  let retryIt = 0;
  const changes: boolean[] = [];
  for (const ok of outcomes) {
    if (ok) {
      retryIt = 0;
      if (!up) changes.push((up = true));
    } else if (up && retryIt < retries) retryIt++;
    else {
      retryIt = 0;
      if (up) changes.push((up = false));
    }
  }
  return changes;
}

describe('scheduler property: transitions match the keepalived model for any outcome sequence', () => {
  it('holds for random outcomes, retries and alpha', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 4 }), fc.boolean(), (outcomes, retries, alpha) => {
        let i = 0;
        const sim = new Sim([service('s', [1], check({ retries, intervalMs: 1000, retryDelayMs: 300 }), { alpha })], () =>
          (outcomes[i++] ?? true) ? OK : FAIL,
        );
        // run until every scripted outcome has been used (at most interval per attempt)
        sim.run(outcomes.length * 1000);
        const used = sim.probes.map((_, k) => outcomes[k] ?? true);
        expect(sim.transitions.map((t) => t.up)).toEqual(model(used, retries, !alpha));
        // retries are spaced retryDelay, everything else delay_loop
        for (let k = 1; k < sim.probes.length; k++) expect([300, 1000]).toContain(sim.probes[k].at - sim.probes[k - 1].at);
      }),
      { numRuns: 300 },
    );
  });
});
