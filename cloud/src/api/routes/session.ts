import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { createSession, csrfTokenFor, deleteSession, SESSION_TTL_MS, sessionCookie } from '../../auth/sessions.ts';
import { findToken } from '../../auth/tokens.ts';
import type { App, AppDeps, AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { authErrors, badRequest, errorResponse } from './common.ts';

const SessionBody = z.object({ token: z.string().min(1).max(200) }).strict();
const SessionInfo = z.object({
  name: z.string(),
  scope: z.enum(['viewer', 'operator', 'admin']),
  expiresAt: z.string().nullable(),
  csrfToken: z.string().nullable(),
});

const open = createRoute({
  method: 'post',
  path: '/v1/session',
  operationId: 'openSession',
  tags: ['session'],
  summary: 'Trade an API token for a browser session: an HttpOnly, SameSite=Strict cookie with the scope of the token',
  description:
    'The answer sets the session cookie (Secure on HTTPS) and gives the CSRF token that every other method than GET and HEAD made with the cookie must send as X-CSRF-Token. Bearer tokens keep working without a session.',
  security: [],
  request: { body: { content: { 'application/json': { schema: SessionBody } }, required: true } },
  responses: {
    201: { content: { 'application/json': { schema: SessionInfo } }, description: 'session opened; Set-Cookie carries it' },
    ...badRequest,
    401: errorResponse('unknown or revoked token'),
  },
});

const read = createRoute({
  method: 'get',
  path: '/v1/session',
  operationId: 'getSession',
  tags: ['session'],
  description: 'The scope of the session or token, and the CSRF token the dashboard sends with its writes.',
  summary: 'The session (or token) this request is made with, and its CSRF token',
  responses: { 200: { content: { 'application/json': { schema: SessionInfo } }, description: 'who is asking' }, ...authErrors },
});

const close = createRoute({
  method: 'delete',
  path: '/v1/session',
  operationId: 'closeSession',
  tags: ['session'],
  description: 'Ends the dashboard session server-side and clears its cookie.',
  summary: 'Log out: end the session and clear its cookie',
  responses: { 204: { description: 'session ended' }, ...authErrors },
});

/** Secure cookies when the browser talks HTTPS to us, directly or through a proxy that says so. */
function https(c: Context<AppEnv>): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

export function registerSessionRoutes(app: App, deps: AppDeps): void {
  app.openapi(open, async (c) => {
    const who = await findToken(deps.db, c.req.valid('json').token);
    if (!who) throw new ApiError(401, 'unauthorized', 'unknown or revoked token');
    const s = await createSession(deps.db, who.id);
    c.header('set-cookie', sessionCookie(s.secret, Math.floor(SESSION_TTL_MS / 1000), https(c)));
    c.header('cache-control', 'no-store');
    return c.json({ name: who.name, scope: who.scope, expiresAt: s.expiresAt.toISOString(), csrfToken: await csrfTokenFor(s.secret) }, 201);
  });

  app.openapi(read, async (c) => {
    const who = c.get('auth');
    const session = c.get('session');
    c.header('cache-control', 'no-store');
    return c.json(
      {
        name: who.name,
        scope: who.scope,
        expiresAt: session ? session.expiresAt.toISOString() : null,
        csrfToken: session ? await csrfTokenFor(session.secret) : null,
      },
      200,
    );
  });

  app.openapi(close, async (c) => {
    const session = c.get('session');
    if (session) await deleteSession(deps.db, session.secret);
    c.header('set-cookie', sessionCookie('', 0, https(c)));
    return c.body(null, 204);
  });
}
