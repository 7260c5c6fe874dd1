import { describe, expect, it } from 'vitest';
import { mulberry32Step, seededRandom } from './random.ts';

describe('mulberry32', () => {
  it('is reproducible from its seed, in [0, 1), and the step and generator forms agree', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBe(1000);
    let s = 42;
    const ys: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = mulberry32Step(s);
      s = r.state;
      ys.push(r.value);
    }
    expect(ys).toEqual(xs.slice(0, 5));
    expect(seededRandom(1)()).not.toBe(seededRandom(2)());
  });
});
