/**
 * Delivery back-off: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then every 2 h up to 24 attempts
 * (the shape Standard Webhooks senders use), with ±20 % jitter so a fleet of failures spreads out.
 */
const SCHEDULE_MS = [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000];
export const MAX_ATTEMPTS = 24;

/** Delay before attempt `attempt + 1` after `attempt` failures, or null when it is time to give up. */
export function nextDelayMs(attempt: number, random: () => number = Math.random): number | null {
  if (attempt >= MAX_ATTEMPTS) return null;
  const base = SCHEDULE_MS[Math.min(attempt - 1, SCHEDULE_MS.length - 1)] ?? SCHEDULE_MS[0];
  const stretched = attempt > SCHEDULE_MS.length ? 7_200_000 : base;
  return Math.round(stretched * (0.8 + 0.4 * random()));
}

/** 2xx is delivered; 408, 429 and 5xx and network errors are retried; other 4xx are final. */
export function classifyResponse(status: number | null): 'delivered' | 'retry' | 'failed' {
  if (status === null) return 'retry';
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'failed';
}
