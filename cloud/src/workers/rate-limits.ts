/**
 * The API's request limits on Workers. An isolate's memory is neither shared nor lasting, so the
 * in-process buckets `lvsfleet serve` keeps would let a client through once per isolate; the
 * platform's rate-limit bindings count for every isolate of a location instead. Their windows are
 * fixed (10 or 60 s) and they do not say when a key frees up, so a refusal answers the window as
 * Retry-After. The limits themselves are wrangler.toml's `[[ratelimits]]`, close to Node's
 * defaults: 3,000 requests a minute per address and per token (Node: 50/s), 10 log-in or enrollment
 * attempts a minute per address (Node: a burst of 10, then one per 5 s).
 */
import type { LimitKind, RequestLimits } from '../api/rate-limit.ts';

/** A Workers rate-limit binding (`[[ratelimits]]` in wrangler.toml). */
export interface RateLimitBinding {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

/** The bindings by the limit they enforce, with the window each is configured with in wrangler.toml. */
export interface LimitBindings {
  LIMIT_ADDRESS?: RateLimitBinding;
  LIMIT_TOKEN?: RateLimitBinding;
  LIMIT_ENROLL?: RateLimitBinding;
}

/** wrangler.toml's `simple.period` of every binding, in seconds. */
const WINDOW_S = 60;

const BINDING: Record<LimitKind, keyof LimitBindings> = { address: 'LIMIT_ADDRESS', token: 'LIMIT_TOKEN', enroll: 'LIMIT_ENROLL' };

/**
 * The app's limits from the bindings present; undefined when none is bound (a local `wrangler dev`
 * without them runs unlimited, as `createApp` without limits does). A key is hashed first: a
 * bearer token must not leave the Worker as a rate-limit key.
 */
export function bindingLimits(env: LimitBindings): RequestLimits | undefined {
  if (!env.LIMIT_ADDRESS && !env.LIMIT_TOKEN && !env.LIMIT_ENROLL) return undefined;
  return async (kind, key) => {
    const binding = env[BINDING[kind]];
    if (!binding) return null;
    const { success } = await binding.limit({ key: kind === 'token' ? await sha256(key) : key });
    return success ? null : WINDOW_S;
  };
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
