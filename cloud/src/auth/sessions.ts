import { and, eq, gt, isNull, lt } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { apiTokens, dashboardSessions } from '../db/schema.ts';
import { randomSecret, sha256Hex, type TokenIdentity } from './tokens.ts';

/** The cookie a dashboard session rides on. */
export const SESSION_COOKIE = 'lvsfleet_session';
/** The header a state-changing request made with the cookie must carry (see csrfTokenFor). */
export const CSRF_HEADER = 'x-csrf-token';
/** A session lasts a working day; the browser asks for the token again after it. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;

export interface SessionIdentity extends TokenIdentity {
  expiresAt: Date;
}

/**
 * Opens a session for a live token: returns the cookie's secret (kept only as its SHA-256) and
 * when it expires. Expired sessions are swept here, so the table holds only live ones and a few.
 */
export async function createSession(db: Db, tokenId: string, now = new Date(), ttlMs = SESSION_TTL_MS): Promise<{ secret: string; expiresAt: Date }> {
  await db.delete(dashboardSessions).where(lt(dashboardSessions.expiresAt, now));
  const secret = randomSecret('lvs_');
  const expiresAt = new Date(now.getTime() + ttlMs);
  await db.insert(dashboardSessions).values({ secretHash: await sha256Hex(secret), tokenId, createdAt: now, expiresAt });
  return { secret, expiresAt };
}

/** The token behind a live session (not expired, token not revoked), or null. */
export async function findSession(db: Db, secret: string, now = new Date()): Promise<SessionIdentity | null> {
  const rows = await db
    .select({
      id: apiTokens.id,
      orgId: apiTokens.orgId,
      name: apiTokens.name,
      scope: apiTokens.scope,
      lastUsedAt: apiTokens.lastUsedAt,
      expiresAt: dashboardSessions.expiresAt,
    })
    .from(dashboardSessions)
    .innerJoin(apiTokens, eq(apiTokens.id, dashboardSessions.tokenId))
    .where(and(eq(dashboardSessions.secretHash, await sha256Hex(secret)), gt(dashboardSessions.expiresAt, now), isNull(apiTokens.revokedAt)))
    .limit(1);
  return rows[0] ?? null;
}

/** Ends a session (log out); true when there was one. */
export async function deleteSession(db: Db, secret: string): Promise<boolean> {
  const gone = await db
    .delete(dashboardSessions)
    .where(eq(dashboardSessions.secretHash, await sha256Hex(secret)))
    .returning({ h: dashboardSessions.secretHash });
  return gone.length > 0;
}

/**
 * The CSRF token of a session: a hash of the cookie's secret under its own label. Only code that
 * can read the HttpOnly cookie (the server) can compute it, and only a same-origin page can read
 * it from `GET /v1/session`, so a request from another site cannot carry it.
 */
export function csrfTokenFor(secret: string): Promise<string> {
  return sha256Hex(`lvsfleet-csrf:${secret}`);
}

/** Set-Cookie value: HttpOnly, SameSite=Strict, Path=/, Secure on HTTPS, for `maxAgeS` seconds (0 clears it). */
export function sessionCookie(value: string, maxAgeS: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
}

/** The session secret from a Cookie header, or null. */
export function sessionFromCookieHeader(header: string | undefined): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const v = part.slice(eq + 1).trim();
      // randomSecret's alphabet only: anything else is not ours.
      return /^lvs_[A-Za-z0-9_-]{20,100}$/.test(v) ? v : null;
    }
  }
  return null;
}
