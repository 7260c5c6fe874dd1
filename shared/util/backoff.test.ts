import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from './backoff.ts';
import { seededRandom } from './random.ts';

describe('backoffDelayMs (exponential, equal jitter)', () => {
  it('doubles the step per retry from the base and stops at the cap', () => {
    expect([0, 1, 2, 3, 5, 6, 7, 40].map((n) => backoffDelayMs(n, 1))).toEqual([1_000, 2_000, 4_000, 8_000, 32_000, 60_000, 60_000, 60_000]);
    expect([0, 1, 2].map((n) => backoffDelayMs(n, 1, { baseMs: 100, maxMs: 300 }))).toEqual([100, 200, 300]);
  });

  it('draws from [step/2, step]: never at once, never past the step', () => {
    expect(backoffDelayMs(0, 0)).toBe(500);
    expect(backoffDelayMs(3, 0)).toBe(4_000);
    expect(backoffDelayMs(40, 0)).toBe(30_000);
    expect(backoffDelayMs(0, 0.5)).toBe(750);
    const random = seededRandom(7);
    for (let retry = 0; retry < 50; retry++) {
      const step = Math.min(60_000, 1_000 * 2 ** retry);
      const d = backoffDelayMs(retry, random());
      expect(d).toBeGreaterThanOrEqual(step / 2);
      expect(d).toBeLessThanOrEqual(step);
    }
  });

  it('spreads a fleet that failed together', () => {
    const random = seededRandom(1);
    const delays = new Set(Array.from({ length: 100 }, () => backoffDelayMs(5, random())));
    expect(delays.size).toBeGreaterThan(90);
  });

  it('clamps a random value outside [0, 1] and a negative retry', () => {
    expect(backoffDelayMs(2, -1)).toBe(2_000);
    expect(backoffDelayMs(2, 7)).toBe(4_000);
    expect(backoffDelayMs(-3, 1)).toBe(1_000);
  });
});
