/**
 * Keeps scrypt off the hot path of a CONNECT flood. A node password is checked with scrypt
 * (deliberately slow), so 200 bad CONNECTs a second would otherwise run it 200 times a second
 * and starve the API. A credential that failed is refused from memory for `windowMs` (scrypt
 * runs once per bad credential per window), and an address whose failures in the window plus
 * checks still running reach `maxFailures` is refused without a check (the checks in flight count,
 * or a burst would start hundreds of them before the first one fails). Agents retry with back-off,
 * so a good login refused in a flood gets in once the window passes. Pure: the caller gives `now`.
 */
export interface AuthThrottle {
  /** 'refuse' without checking, or 'verify': run the real check, then report it with failed or succeeded. */
  admit(address: string, credential: string, now: number): 'refuse' | 'verify';
  failed(address: string, credential: string, now: number): void;
  succeeded(address: string, credential: string): void;
}

const MAX_ENTRIES = 10_000;

export function authThrottle(o: { windowMs: number; maxFailures: number }): AuthThrottle {
  const badCredentials = new Map<string, number>(); // credential → until
  const perAddress = new Map<string, { count: number; since: number; inFlight: number }>();
  const prune = (now: number) => {
    if (badCredentials.size >= MAX_ENTRIES) for (const [k, until] of badCredentials) if (until <= now) badCredentials.delete(k);
    if (perAddress.size >= MAX_ENTRIES) for (const [k, a] of perAddress) if (now - a.since >= o.windowMs && !a.inFlight) perAddress.delete(k);
  };
  return {
    admit(address, credential, now) {
      const until = badCredentials.get(credential);
      if (until !== undefined && until > now) return 'refuse';
      prune(now);
      let a = perAddress.get(address);
      if (!a) perAddress.set(address, (a = { count: 0, since: now, inFlight: 0 }));
      else if (now - a.since >= o.windowMs) Object.assign(a, { count: 0, since: now });
      if (a.count + a.inFlight >= o.maxFailures) return 'refuse';
      a.inFlight++;
      return 'verify';
    },
    failed(address, credential, now) {
      badCredentials.set(credential, now + o.windowMs);
      const a = perAddress.get(address);
      if (!a) return;
      a.inFlight = Math.max(0, a.inFlight - 1);
      if (now - a.since >= o.windowMs) Object.assign(a, { count: 1, since: now });
      else a.count++;
    },
    succeeded(address, credential) {
      badCredentials.delete(credential);
      const a = perAddress.get(address);
      if (a) a.inFlight = Math.max(0, a.inFlight - 1);
    },
  };
}
