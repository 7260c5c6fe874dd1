import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { fromZod } from '#shared/site/issues.ts';
import { findToken, scopeAllows, touchToken, type Scope } from '../auth/tokens.ts';
import { StatusBook } from '../status/book.ts';
import { createPagesRouter } from '../pages/routes.ts';
import type { App, AppDeps, AppEnv } from './context.ts';
import { ApiError, toApiError, type ErrorStatus } from './errors.ts';
import { BEARER_SCHEME, openApiConfig } from './openapi.ts';
import { rateLimiter } from './rate-limit.ts';
import { registerAuditRoutes } from './routes/audit.ts';
import { registerEnrollmentRoutes } from './routes/enrollment.ts';
import { registerOpsRoutes } from './routes/ops.ts';
import { registerSiteRoutes } from './routes/sites.ts';
import { registerSpecRoutes } from './routes/spec.ts';
import { registerStatusRoutes } from './routes/status.ts';
import { registerTokenRoutes } from './routes/tokens.ts';
import { registerWebhookRoutes } from './routes/webhooks.ts';

const MAX_BODY_BYTES = 1024 * 1024;

/** Routes that take no bearer token: the agent authenticates with its one-time enrollment token. */
const PUBLIC_V1 = new Set(['/v1/agent/enroll']);

const ADMIN_PREFIXES = ['/v1/tokens', '/v1/webhooks'];
/** Reads that need more than viewer: the audit log names who did what (operator; token and webhook entries admin only). */
const OPERATOR_PREFIXES = ['/v1/audit'];

const under = (path: string, prefixes: readonly string[]) => prefixes.some((p) => path === p || path.startsWith(`${p}/`));

/** The scope a request needs: tokens and webhooks are admin's, the audit log and writes operator's, other GETs viewer's. */
function neededScope(method: string, path: string): Scope {
  if (under(path, ADMIN_PREFIXES)) return 'admin';
  if (under(path, OPERATOR_PREFIXES)) return 'operator';
  return method === 'GET' || method === 'HEAD' ? 'viewer' : 'operator';
}

function bearer(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m ? m[1] : null;
}

/**
 * The HTTP API, runtime-agnostic: no Node-only imports,
 * so the Node `serve` command and the Workers entry host the same app.
 */
export function createApp(deps: AppDeps): App {
  const status = deps.status ?? new StatusBook(deps.db);
  const app: App = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw new ApiError(400, 'bad_request', 'invalid request', fromZod(result.error));
    },
  });

  app.onError((err, c) => {
    const answer = toApiError(err);
    if (answer) return c.json(answer.body(), answer.status);
    if (err instanceof HTTPException) {
      const status = err.status as ErrorStatus;
      const code = status === 415 ? 'unsupported_media_type' : status === 413 ? 'payload_too_large' : 'bad_request';
      return c.json({ error: { code, message: err.message || 'bad request' } }, status);
    }
    deps.log?.(`api ${c.req.method} ${c.req.path} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return c.json({ error: { code: 'internal', message: 'internal error' } }, 500);
  });
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route ${c.req.method} ${c.req.path}` } }, 404));

  // Browser hardening for the pages and every answer: scripts and styles only from this server
  // (the pages have no inline code), never framed, no MIME sniffing, no Referer to other sites.
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      xFrameOptions: 'DENY',
      referrerPolicy: 'no-referrer',
    }),
  );

  const { metrics } = deps;
  if (metrics) {
    app.use('*', metrics.middleware);
    app.get('/metrics', async (c) => {
      const m = await metrics.render();
      return c.body(m.body, 200, { 'content-type': m.contentType });
    });
  }

  const maxSize = deps.maxBodyBytes ?? MAX_BODY_BYTES;
  app.use(
    '*',
    bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError(413, 'payload_too_large', `request body is larger than ${maxSize} bytes`);
      },
    }),
  );

  const limits = deps.rateLimits;
  if (limits) {
    const [byAddress, byToken, enroll] = [rateLimiter(limits.perAddress), rateLimiter(limits.perToken), rateLimiter(limits.enrollPerAddress)];
    app.use('/v1/*', async (c, next) => {
      const now = Date.now();
      const address = deps.clientAddress?.(c) ?? 'unknown';
      const secret = bearer(c.req.header('authorization'));
      const wait =
        (PUBLIC_V1.has(c.req.path) ? enroll.take(address, now) : null) ?? byAddress.take(address, now) ?? (secret ? byToken.take(secret, now) : null);
      if (wait === null) return next();
      return c.json({ error: { code: 'rate_limited', message: `too many requests; retry in ${wait} s` } }, 429, { 'retry-after': String(wait) });
    });
  }

  app.use('/v1/*', async (c, next) => {
    if (PUBLIC_V1.has(c.req.path)) return next();
    const secret = bearer(c.req.header('authorization'));
    if (!secret) throw new ApiError(401, 'unauthorized', 'missing bearer token (Authorization: Bearer …)');
    const who = await findToken(deps.db, secret);
    if (!who) throw new ApiError(401, 'unauthorized', 'unknown or revoked token');
    const need = neededScope(c.req.method, c.req.path);
    if (!scopeAllows(who.scope, need)) throw new ApiError(403, 'forbidden', `this needs a token of scope ${need}; yours is ${who.scope}`);
    await touchToken(deps.db, who);
    c.set('auth', who);
    return next();
  });

  registerOpsRoutes(app, deps);
  registerSpecRoutes(app, deps);
  registerSiteRoutes(app, deps);
  registerStatusRoutes(app, deps, status);
  registerEnrollmentRoutes(app, deps);
  registerTokenRoutes(app, deps);
  registerWebhookRoutes(app, deps);
  registerAuditRoutes(app, deps);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', BEARER_SCHEME);
  // The server the document lists is the one that served it.
  app.doc31('/openapi.json', (c) => openApiConfig(new URL(c.req.url).origin));

  app.route(
    '/',
    createPagesRouter({
      loadView: (site) => status.byName(site),
      canView: async (authorization) => {
        const secret = bearer(authorization);
        return secret ? (await findToken(deps.db, secret)) !== null : false;
      },
    }),
  );
  return app;
}
