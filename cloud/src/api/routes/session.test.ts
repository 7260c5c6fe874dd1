import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../auth/sessions.ts';
import { sha256Hex } from '../../auth/tokens.ts';
import { apiTokens, dashboardSessions } from '../../db/schema.ts';
import { SEEDS_YAML } from '../../../test/fixtures.test-support.ts';
import { useTestApp } from '../test-app.test-support.ts';

describe('dashboard sessions (cookie instead of a token in the browser)', () => {
  const t = useTestApp();

  /** Opens a session with `token`; the cookie pair, the CSRF token and the raw Set-Cookie. */
  async function login(token: string, headers: Record<string, string> = {}) {
    const r = await t.req('/v1/session', { method: 'POST', as: null, json: { token }, headers });
    expect(r.status).toBe(201);
    const setCookie = r.headers.get('set-cookie')!;
    const body = (await r.json()) as { scope: string; csrfToken: string; expiresAt: string };
    return { cookie: setCookie.split(';')[0], csrf: body.csrfToken, setCookie, body };
  }

  it('trades a token for an HttpOnly, SameSite=Strict cookie whose secret is stored only as a hash', async () => {
    const s = await login(t.tokens.operator);
    expect(s.setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=lvs_[A-Za-z0-9_-]+; Path=/; HttpOnly; SameSite=Strict; Max-Age=28800$`));
    expect(s.body.scope).toBe('operator');
    const secret = s.cookie.split('=')[1];
    const rows = await t.db.db.select().from(dashboardSessions);
    expect(rows).toHaveLength(1);
    expect(rows[0].secretHash).toBe(await sha256Hex(secret));
    expect(JSON.stringify(rows)).not.toContain(secret);
    // Secure behind HTTPS (directly or as a proxy says).
    expect((await login(t.tokens.viewer, { 'x-forwarded-proto': 'https' })).setCookie).toMatch(/; Secure$/);
    const direct = await t.app.request('https://lb.example/v1/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: t.tokens.viewer }),
    });
    expect(direct.headers.get('set-cookie')).toMatch(/; Secure$/);
  });

  it('refuses an unknown token with 401 and sets no cookie', async () => {
    const r = await t.req('/v1/session', { method: 'POST', as: null, json: { token: 'lvf_nope' } });
    expect(r.status).toBe(401);
    expect(r.headers.get('set-cookie')).toBeNull();
  });

  it('the cookie reads the API with the scope of its token; bearer tokens keep working beside it', async () => {
    const s = await login(t.tokens.viewer);
    expect((await t.req('/v1/sites', { as: null, headers: { cookie: s.cookie } })).status).toBe(200);
    const me = await t.req('/v1/session', { as: null, headers: { cookie: s.cookie } });
    expect(await me.json()).toMatchObject({ scope: 'viewer', csrfToken: s.csrf });
    // A viewer session is still a viewer: a write is 403 forbidden even with the CSRF token.
    const put = await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', as: null, yaml: SEEDS_YAML, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
    expect(put.status).toBe(403);
    expect(((await put.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    expect((await t.req('/v1/sites', { as: 'viewer' })).status).toBe(200);
    expect(await (await t.req('/v1/session', { as: 'viewer' })).json()).toMatchObject({ scope: 'viewer', csrfToken: null, expiresAt: null });
    // The dashboard's own JSON takes the cookie too.
    expect((await t.req('/dashboard/sites/none.json', { as: null, headers: { cookie: s.cookie } })).status).toBe(404);
    expect((await t.req('/dashboard/sites/none.json', { as: null, headers: { cookie: `${SESSION_COOKIE}=lvs_${'x'.repeat(43)}` } })).status).toBe(401);
  });

  it('a write made with the cookie needs the CSRF token and a same-origin Origin', async () => {
    const s = await login(t.tokens.operator);
    const put = (headers: Record<string, string>) =>
      t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', as: null, yaml: SEEDS_YAML, headers: { cookie: s.cookie, ...headers } });
    const code = async (r: Response) => [r.status, ((await r.json()) as { error?: { code: string } }).error?.code];
    expect(await code(await put({}))).toEqual([403, 'csrf']);
    expect(await code(await put({ 'x-csrf-token': 'f'.repeat(64) }))).toEqual([403, 'csrf']);
    expect(await code(await put({ 'x-csrf-token': s.csrf, origin: 'https://evil.example', host: 'localhost' }))).toEqual([403, 'csrf']);
    expect(await code(await put({ 'x-csrf-token': s.csrf, 'sec-fetch-site': 'cross-site' }))).toEqual([403, 'csrf']);
    expect((await put({ 'x-csrf-token': s.csrf, origin: 'http://localhost', host: 'localhost', 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    // A bearer request needs none of it.
    expect((await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', as: 'operator', yaml: SEEDS_YAML })).status).toBe(200);
  });

  it('log out ends the session server-side and clears the cookie; a revoked token ends its sessions; expired sessions are refused', async () => {
    const s = await login(t.tokens.viewer);
    expect((await t.req('/v1/session', { method: 'DELETE', as: null, headers: { cookie: s.cookie } })).status).toBe(403); // no CSRF token
    const out = await t.req('/v1/session', { method: 'DELETE', as: null, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(new RegExp(`^${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`));
    expect((await t.req('/v1/sites', { as: null, headers: { cookie: s.cookie } })).status).toBe(401);

    const r = await login(t.tokens.operator);
    const [op] = await t.db.db.select().from(apiTokens).where(eq(apiTokens.name, 'test-operator'));
    await t.req(`/v1/tokens/${op.id}`, { method: 'DELETE' });
    expect((await t.req('/v1/sites', { as: null, headers: { cookie: r.cookie } })).status).toBe(401);

    const e = await login(t.tokens.admin);
    await t.db.db.update(dashboardSessions).set({ expiresAt: new Date(Date.now() - 1000) });
    const expired = await t.req('/v1/sites', { as: null, headers: { cookie: e.cookie } });
    expect(expired.status).toBe(401);
    expect(await expired.text()).toContain('the session has expired or ended');
  });

  it('without a token or a session the API answers 401 naming both', async () => {
    const r = await t.req('/v1/sites', { as: null });
    expect(r.status).toBe(401);
    expect(await r.text()).toContain('missing bearer token (Authorization: Bearer …) or dashboard session');
  });
});
