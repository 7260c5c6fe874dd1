import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiTokens, auditLog } from '../db/schema.ts';
import { openTestDatabase, type TestDatabase } from '../db/test-db.test-support.ts';
import { createApiToken, ensureBootstrapAdmin, findToken, LAST_USED_GRANULARITY_MS, scopeAllows, sha256Hex, touchToken } from './tokens.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  await db.truncate();
});

describe('API tokens', () => {
  it('orders scopes admin ⊃ operator ⊃ viewer', () => {
    expect(scopeAllows('admin', 'operator')).toBe(true);
    expect(scopeAllows('operator', 'viewer')).toBe(true);
    expect(scopeAllows('operator', 'admin')).toBe(false);
    expect(scopeAllows('viewer', 'operator')).toBe(false);
  });

  it('stores only the SHA-256 of a token and finds it by the secret', async () => {
    const { secret } = await createApiToken(db.db, { name: 'x', scope: 'operator' });
    const [row] = await db.db.select().from(apiTokens);
    expect(row.tokenHash).toBe(await sha256Hex(secret));
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(await findToken(db.db, secret)).toMatchObject({ name: 'x', scope: 'operator', orgId: 'default' });
    expect(await findToken(db.db, secret + 'x')).toBeNull();
  });

  it('refreshes last_used_at at most once per interval', async () => {
    const { secret } = await createApiToken(db.db, { name: 'x', scope: 'viewer' });
    const t0 = new Date('2026-01-01T00:00:00Z');
    await touchToken(db.db, (await findToken(db.db, secret))!, t0);
    expect((await findToken(db.db, secret))!.lastUsedAt).toEqual(t0);
    await touchToken(db.db, (await findToken(db.db, secret))!, new Date(t0.getTime() + 1000));
    expect((await findToken(db.db, secret))!.lastUsedAt).toEqual(t0);
    const later = new Date(t0.getTime() + LAST_USED_GRANULARITY_MS);
    await touchToken(db.db, (await findToken(db.db, secret))!, later);
    expect((await findToken(db.db, secret))!.lastUsedAt).toEqual(later);
  });

  it('bootstraps one generated admin token, once, audited', async () => {
    const first = await ensureBootstrapAdmin(db.db);
    expect(first.created).toBe(true);
    expect(await findToken(db.db, first.secret!)).toMatchObject({ scope: 'admin' });
    expect(await ensureBootstrapAdmin(db.db)).toEqual({ created: false, secret: null });
    expect((await db.db.select().from(auditLog)).map((a) => a.action)).toEqual(['token.bootstrap']);
  });

  it('registers LVSFLEET_ADMIN_TOKEN as given, once', async () => {
    const secret = 'lvf_env_token_0123456789';
    expect(await ensureBootstrapAdmin(db.db, secret)).toEqual({ created: true, secret });
    expect(await ensureBootstrapAdmin(db.db, secret)).toEqual({ created: false, secret: null });
    expect(await findToken(db.db, secret)).toMatchObject({ scope: 'admin' });
  });

  it('replicas starting at once bootstrap the admin token once, and all start', async () => {
    const generated = await Promise.all([1, 2, 3].map(() => ensureBootstrapAdmin(db.db)));
    expect(generated.filter((r) => r.created)).toHaveLength(1);
    const secret = 'lvf_env_token_replicas_0123456789';
    const given = await Promise.all([1, 2, 3].map(() => ensureBootstrapAdmin(db.db, secret)));
    expect(given.filter((r) => r.created)).toHaveLength(1);
    expect(await db.db.$count(apiTokens)).toBe(2);
  });
});
