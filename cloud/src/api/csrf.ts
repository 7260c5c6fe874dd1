/** Methods that change nothing, so they need no CSRF proof (RFC 9110 §9.2.1 safe methods). */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface CsrfFacts {
  method: string;
  /** The request's Host header (the address the browser used). */
  host: string | undefined;
  origin: string | undefined;
  /** Sec-Fetch-Site, sent by current browsers on every request. */
  fetchSite: string | undefined;
  /** The CSRF header's value. */
  token: string | undefined;
}

/** Equal strings in time that does not depend on where they differ. */
function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return d === 0;
}

/**
 * Why a state-changing request authenticated by the session cookie is refused, or null. Three
 * checks, any of which stops a cross-site request: SameSite=Strict keeps the cookie off it in the
 * first place; an Origin (or Sec-Fetch-Site) that is not this server's refuses it, which is what
 * Hono's csrf middleware does, but that one checks only form content types and lets a request
 * without Origin through; so the session's CSRF token is required too, in a header no other site
 * can set on a request carrying our cookie without a CORS grant this server never gives, and with a
 * value only a same-origin page can read. Bearer requests need none of it: a browser never adds
 * that header on its own.
 */
export function csrfRefusal(f: CsrfFacts, expected: string): string | null {
  if (SAFE.has(f.method.toUpperCase())) return null;
  if (f.fetchSite && f.fetchSite !== 'same-origin' && f.fetchSite !== 'none') return `cross-site request refused (Sec-Fetch-Site: ${f.fetchSite})`;
  if (f.origin !== undefined) {
    let host: string | null = null;
    try {
      host = new URL(f.origin).host;
    } catch {
      // "null" or garbage: not this server
    }
    if (!host || host !== f.host) return `cross-origin request refused (Origin: ${f.origin.slice(0, 100)})`;
  }
  if (!f.token) return 'missing CSRF token (X-CSRF-Token from GET /v1/session) on a request made with the session cookie';
  if (!sameSecret(f.token, expected)) return 'wrong CSRF token for this session';
  return null;
}
