import { authThrottle } from '../mqtt/auth-throttle.ts';
import { verifyNodeCredentials } from '../mqtt/credentials.ts';
import type { Db } from '../db/client.ts';

/** A good credential is taken from memory this long (a re-enrolled node's old password works this long at most). */
const REMEMBER_MS = 60_000;
const MAX_REMEMBERED = 10_000;

/**
 * Authenticates a node's report by HTTP Basic with its broker credentials (RFC 7617; username =
 * node id): the same scrypt check the broker's login makes (`verifyNodeCredentials`), behind the
 * broker's throttle (a credential that failed is refused from memory; an address with too many
 * failures is refused unchecked), and a good credential is remembered for a minute so a status
 * every 15 s does not cost a scrypt each. Answers the node id, or why not.
 */
export function nodeAuthenticator(o: { windowMs?: number; maxFailures?: number } = {}) {
  const throttle = authThrottle({ windowMs: o.windowMs ?? 60_000, maxFailures: o.maxFailures ?? 20 });
  const good = new Map<string, { nodeId: string; until: number }>();
  return async (db: Db, authorization: string | undefined, address: string, now: number): Promise<{ nodeId: string } | { refused: string }> => {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
    if (!m) return { refused: 'missing node credentials (Authorization: Basic base64(nodeId:password))' };
    let decoded: string;
    try {
      decoded = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(atob(m[1]), (ch) => ch.charCodeAt(0)));
    } catch {
      return { refused: 'the Basic credentials are not base64 of UTF-8' };
    }
    const colon = decoded.indexOf(':');
    if (colon <= 0) return { refused: 'the Basic credentials are not nodeId:password' };
    const [nodeId, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
    const remembered = good.get(decoded);
    if (remembered && remembered.until > now) return { nodeId: remembered.nodeId };
    if (throttle.admit(address, decoded, now) === 'refuse') return { refused: 'too many failed logins; retry later' };
    if (!(await verifyNodeCredentials(db, nodeId, password))) {
      throttle.failed(address, decoded, now);
      return { refused: 'unknown node or wrong password' };
    }
    throttle.succeeded(address, decoded);
    if (good.size >= MAX_REMEMBERED) for (const [k, v] of good) if (v.until <= now) good.delete(k);
    if (good.size < MAX_REMEMBERED) good.set(decoded, { nodeId, until: now + REMEMBER_MS });
    return { nodeId };
  };
}
