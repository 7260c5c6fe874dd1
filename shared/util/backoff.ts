export interface BackoffOptions {
  /** Step of the first retry (default 1 s). */
  baseMs?: number;
  /** The step stops doubling here (default 60 s). */
  maxMs?: number;
}

/**
 * Exponential back-off with equal jitter: the step doubles from `baseMs` with every retry up to
 * `maxMs`, and the delay is drawn from [step/2, step]. The half-step floor means a retry never
 * comes at once, so a peer that keeps failing is not hammered; the other half spreads a fleet that
 * failed together so it does not retry in lockstep. `retry` counts from 0 (the first retry);
 * `random` is in [0, 1] (Math.random(), or a seeded generator's value in tests).
 */
export function backoffDelayMs(retry: number, random: number, o: BackoffOptions = {}): number {
  const baseMs = o.baseMs ?? 1_000;
  const step = Math.min(o.maxMs ?? 60_000, baseMs * 2 ** Math.min(Math.max(retry, 0), 30));
  const r = Math.min(Math.max(random, 0), 1);
  return Math.round(step / 2 + (step / 2) * r);
}
