/**
 * mulberry32, a small deterministic PRNG: simulations, property tests and the health-check
 * scheduler's warmup spread are functions of their seed. The step form keeps the state a plain
 * number for code whose state must stay a value (the pure scheduler).
 */
export function mulberry32Step(state: number): { state: number; value: number } {
  const next = (state + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return { state: next, value: ((t ^ (t >>> 14)) >>> 0) / 4294967296 };
}

/** A generator of numbers in [0, 1) from a seed. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    const r = mulberry32Step(s);
    s = r.state;
    return r.value;
  };
}
