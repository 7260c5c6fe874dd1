/**
 * Reconnect delay: exponential from `baseMs` to `maxMs`, with full jitter ("Exponential Backoff
 * and Jitter") so a fleet that lost its broker does not reconnect in lockstep. `random` in [0,1).
 */
export function backoffDelay(attempt: number, random: number, baseMs = 1_000, maxMs = 60_000): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.floor(cap / 2 + (random * cap) / 2);
}
