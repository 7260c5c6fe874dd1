/**
 * Token buckets keyed by a client address or a bearer token: `rate` requests a second sustained,
 * `burst` at once. Pure state plus `now`, no timers: a bucket refills by the time since it was
 * last used, and full buckets are forgotten when the table grows, so a flood of distinct keys
 * costs memory only while they are active.
 */
export interface Limit {
  rate: number;
  burst: number;
}

export interface RateLimiter {
  /** Spends one request of `key`: null when allowed, else the seconds until one is (for Retry-After). */
  take(key: string, now: number): number | null;
}

const MAX_KEYS = 10_000;

export function rateLimiter(limit: Limit): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const level = (b: { tokens: number; at: number }, now: number) => Math.min(limit.burst, b.tokens + ((now - b.at) / 1000) * limit.rate);
  return {
    take(key, now) {
      if (buckets.size >= MAX_KEYS) for (const [k, b] of buckets) if (level(b, now) >= limit.burst) buckets.delete(k);
      const b = buckets.get(key) ?? { tokens: limit.burst, at: now };
      const tokens = level(b, now);
      if (tokens < 1) {
        buckets.set(key, { tokens, at: now });
        return Math.max(1, Math.ceil((1 - tokens) / limit.rate));
      }
      buckets.set(key, { tokens: tokens - 1, at: now });
      return null;
    },
  };
}

/** The API's limits: every client address, every bearer token, and enrollment per address (tighter: each try costs a token lookup). */
export interface ApiLimits {
  perAddress: Limit;
  perToken: Limit;
  enrollPerAddress: Limit;
}

export const DEFAULT_API_LIMITS: ApiLimits = {
  perAddress: { rate: 50, burst: 200 },
  perToken: { rate: 50, burst: 200 },
  enrollPerAddress: { rate: 0.2, burst: 10 },
};

/** Which limit a request spends: every request per client address, per bearer token, and log-in attempts (enrollment, session) per address. */
export type LimitKind = 'address' | 'token' | 'enroll';

/**
 * The API's request limits, as the app sees them: spends one request of `key` under `kind`, and
 * answers null when allowed, else the seconds until one is (Retry-After). Node keeps token buckets
 * in the process (`bucketLimits`); Workers asks the platform's rate-limit bindings, which every
 * isolate shares (cloud/src/workers/rate-limits.ts).
 */
export type RequestLimits = (kind: LimitKind, key: string, now: number) => number | null | Promise<number | null>;

/** In-process token buckets for `limits` (one process holds every count: `lvsfleet serve`). */
export function bucketLimits(limits: ApiLimits): RequestLimits {
  const buckets: Record<LimitKind, RateLimiter> = {
    address: rateLimiter(limits.perAddress),
    token: rateLimiter(limits.perToken),
    enroll: rateLimiter(limits.enrollPerAddress),
  };
  return (kind, key, now) => buckets[kind].take(key, now);
}
