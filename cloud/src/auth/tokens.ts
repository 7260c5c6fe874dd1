import { and, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { LOCK_NAMESPACE } from '../db/advisory-lock.ts';
import type { Db } from '../db/client.ts';
import { apiTokens, auditLog, orgs } from '../db/schema.ts';

/** Token scopes, each including the ones after it: admin ⊃ operator ⊃ viewer. */
const SCOPES = ['viewer', 'operator', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const DEFAULT_ORG = 'default';

/** True when a token of scope `have` may do what needs `need`. */
export function scopeAllows(have: Scope, need: Scope): boolean {
  return SCOPES.indexOf(have) >= SCOPES.indexOf(need);
}

/** SHA-256 hex of a secret (Web Crypto, so the same code runs on Node and Workers). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A random secret: prefix + 32 random bytes, base64url. */
export function randomSecret(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return prefix + btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export interface TokenIdentity {
  id: string;
  orgId: string;
  name: string;
  scope: Scope;
  lastUsedAt: Date | null;
}

/** How stale `last_used_at` may get before a request refreshes it (one write per token per interval, not per request). */
export const LAST_USED_GRANULARITY_MS = 5 * 60 * 1000;

/** Refreshes a token's `last_used_at` when it is older than LAST_USED_GRANULARITY_MS. */
export async function touchToken(db: Db, who: TokenIdentity, now = new Date()): Promise<void> {
  if (who.lastUsedAt && now.getTime() - who.lastUsedAt.getTime() < LAST_USED_GRANULARITY_MS) return;
  await db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, who.id));
}

/** The live (neither revoked nor expired) token a bearer secret belongs to, or null. */
export async function findToken(db: Db, secret: string, now = new Date()): Promise<TokenIdentity | null> {
  const hash = await sha256Hex(secret);
  const rows = await db
    .select({ id: apiTokens.id, orgId: apiTokens.orgId, name: apiTokens.name, scope: apiTokens.scope, lastUsedAt: apiTokens.lastUsedAt })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hash), isNull(apiTokens.revokedAt), or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now))))
    .limit(1);
  return rows[0] ?? null;
}

async function ensureOrg(db: Db, orgId = DEFAULT_ORG): Promise<void> {
  await db.insert(orgs).values({ id: orgId, name: orgId }).onConflictDoNothing();
}

/** Stores a new token (hash only) and returns its secret, shown once. */
export async function createApiToken(
  db: Db,
  opts: { orgId?: string; name: string; scope: Scope; secret?: string; expiresAt?: Date },
): Promise<{ id: string; secret: string }> {
  const orgId = opts.orgId ?? DEFAULT_ORG;
  await ensureOrg(db, orgId);
  const secret = opts.secret ?? randomSecret('lvf_');
  const id = crypto.randomUUID();
  await db.insert(apiTokens).values({ id, orgId, name: opts.name, scope: opts.scope, tokenHash: await sha256Hex(secret), expiresAt: opts.expiresAt ?? null });
  return { id, secret };
}

/**
 * Makes sure the bootstrap admin token exists. With `secret` (LVSFLEET_ADMIN_TOKEN) that very
 * token is registered if new; without it, one is generated only when the org has no admin token.
 * Returns the secret when one was created now (to print once), else null.
 */
export async function ensureBootstrapAdmin(db: Db, secret?: string): Promise<{ created: boolean; secret: string | null }> {
  // Replicas starting at once on one database: one of them makes the token, the others find it
  // (each checking and inserting on its own, the second hit the token's unique hash and failed to start).
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE.bootstrap}::int, 0)`);
    const t = tx as unknown as Db;
    await ensureOrg(t);
    if (secret) {
      if (await findToken(t, secret)) return { created: false, secret: null };
      const made = await createApiToken(t, { name: 'bootstrap-admin', scope: 'admin', secret });
      await auditBootstrap(t, made.id, 'LVSFLEET_ADMIN_TOKEN');
      return { created: true, secret };
    }
    const admins = await t
      .select({ id: apiTokens.id })
      .from(apiTokens)
      .where(and(eq(apiTokens.orgId, DEFAULT_ORG), eq(apiTokens.scope, 'admin'), isNull(apiTokens.revokedAt)))
      .limit(1);
    if (admins.length) return { created: false, secret: null };
    const made = await createApiToken(t, { name: 'bootstrap-admin', scope: 'admin' });
    await auditBootstrap(t, made.id, 'generated');
    return { created: true, secret: made.secret };
  });
}

async function auditBootstrap(db: Db, tokenId: string, source: string): Promise<void> {
  await db.insert(auditLog).values({ orgId: DEFAULT_ORG, actor: 'serve', action: 'token.bootstrap', target: tokenId, detail: { source } });
}
