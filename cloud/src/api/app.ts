import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { MAX_STATUS_BYTES } from '#shared/wire/status.ts';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { fromZod } from '#shared/site/issues.ts';
import { CSRF_HEADER, csrfTokenFor, findSession, sessionFromCookieHeader } from '../auth/sessions.ts';
import { findToken, scopeAllows, touchToken, type Scope, type TokenIdentity } from '../auth/tokens.ts';
import { StatusBook } from '../status/book.ts';
import { createPagesRouter } from '../pages/routes.ts';
import { registerPublicStatusDoc } from '../pages/openapi.ts';
import { loadDashboard, revisionDiff } from '../pages/dashboard-data.ts';
import { readHistory } from '../status/history.ts';
import { readAlerts } from '../status/incident-store.ts';
import type { App, AppDeps, AppEnv } from './context.ts';
import { csrfRefusal } from './csrf.ts';
import { ApiError, toApiError, type ErrorStatus } from './errors.ts';
import { refuseNul } from './nul-guard.ts';
import { BEARER_SCHEME, openApiConfig } from './openapi.ts';
import { registerAuditRoutes } from './routes/audit.ts';
import { NODE_REPORT_ROUTES, registerAgentReportRoutes } from './routes/agent-report.ts';
import { registerEnrollmentRoutes } from './routes/enrollment.ts';
import { registerKeyRoutes } from './routes/keys.ts';
import { registerRolloutRoutes } from './routes/rollout.ts';
import { registerSessionRoutes } from './routes/session.ts';
import { registerOverrideRoutes } from './routes/overrides.ts';
import { registerOpsRoutes } from './routes/ops.ts';
import { registerSiteRoutes } from './routes/sites.ts';
import { registerSpecRoutes, SPEC_BODY_LIMITS, SPEC_PATH, specFormatOf } from './routes/spec.ts';
import { registerStatusRoutes } from './routes/status.ts';
import { registerTokenRoutes } from './routes/tokens.ts';
import { registerWebhookRoutes } from './routes/webhooks.ts';
import { requireScrapeToken } from './scrape-token.ts';

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Routes that take no bearer token: the agent authenticates with its one-time enrollment token,
 * a browser opening a session with the API token in the body. Both are tried by strangers, so both
 * take the tighter enrollment rate limit.
 */
const PUBLIC_V1 = new Set(['POST /v1/agent/enroll', 'POST /v1/session']);
const isPublic = (method: string, path: string) => PUBLIC_V1.has(`${method} ${path}`);
/** Routes a node calls with its own credentials (HTTP Basic), checked by the route itself. */
const NODE_V1 = new Set(NODE_REPORT_ROUTES);
const isNodeReport = (method: string, path: string) => NODE_V1.has(`${method} ${path}`);

const ADMIN_PREFIXES = ['/v1/tokens', '/v1/webhooks', '/v1/keys'];
/** Reads that need more than viewer: the audit log names who did what (operator; token and webhook entries admin only). */
const OPERATOR_PREFIXES = ['/v1/audit'];

const under = (path: string, prefixes: readonly string[]) => prefixes.some((p) => path === p || path.startsWith(`${p}/`));

/** The scope a request needs: tokens, webhooks and signing keys are admin's, the audit log and writes operator's, other GETs viewer's. */
function neededScope(method: string, path: string): Scope {
  // Everyone may read and end their own session.
  if (path === '/v1/session') return 'viewer';
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
    if (metrics.middleware) app.use('*', metrics.middleware);
    app.get('/metrics', async (c) => {
      requireScrapeToken(metrics.token, c.req.header('authorization'));
      const m = await metrics.render();
      return c.body(m.body, 200, { 'content-type': m.contentType });
    });
  }

  const maxSize = deps.maxBodyBytes ?? MAX_BODY_BYTES;
  const limit = (max: number, why = '') =>
    bodyLimit({
      maxSize: max,
      onError: () => {
        throw new ApiError(413, 'payload_too_large', `request body is larger than ${max} bytes${why}`);
      },
    });
  const bodyUpTo = limit(maxSize);
  // An agent's status over HTTPS is bounded as on its MQTT topic (classify), not tighter: a large
  // director's status passes the API's general limit.
  const statusUpTo = limit(Math.max(maxSize, MAX_STATUS_BYTES));
  // A site's spec grows with its nodes (a 10,000-node site is 1 MB of JSON, 1.3 MB of YAML), and
  // YAML costs the server far more than JSON to read: each format has its own bound.
  const spec = deps.specBodyLimits ?? SPEC_BODY_LIMITS;
  const specUpTo = {
    json: limit(Math.max(maxSize, spec.json), ': split the site'),
    yaml: limit(Math.max(maxSize, spec.yaml), `: send a spec this large as JSON (up to ${Math.max(maxSize, spec.json)} bytes), as lvsfleet apply does`),
  };
  app.use('*', (c, next) => {
    if (c.req.method === 'POST' && c.req.path === '/v1/agent/status') return statusUpTo(c, next);
    if (c.req.method === 'PUT' && SPEC_PATH.test(c.req.path)) return specUpTo[specFormatOf(c.req.header('content-type'))](c, next);
    return bodyUpTo(c, next);
  });

  const limits = deps.rateLimits;
  if (limits) {
    app.use('/v1/*', async (c, next) => {
      const now = Date.now();
      const address = deps.clientAddress?.(c) ?? 'unknown';
      const secret = bearer(c.req.header('authorization')) ?? sessionFromCookieHeader(c.req.header('cookie'));
      const wait =
        (isPublic(c.req.method, c.req.path) ? await limits('enroll', address, now) : null) ??
        (await limits('address', address, now)) ??
        (secret ? await limits('token', secret, now) : null);
      if (wait === null) return next();
      return c.json({ error: { code: 'rate_limited', message: `too many requests; retry in ${wait} s` } }, 429, { 'retry-after': String(wait) });
    });
  }

  app.use('/v1/*', async (c, next) => {
    if (isPublic(c.req.method, c.req.path) || isNodeReport(c.req.method, c.req.path)) return next();
    const secret = bearer(c.req.header('authorization'));
    const cookie = secret ? null : sessionFromCookieHeader(c.req.header('cookie'));
    if (!secret && !cookie) throw new ApiError(401, 'unauthorized', 'missing bearer token (Authorization: Bearer …) or dashboard session');
    let who: TokenIdentity | null;
    if (secret) {
      who = await findToken(deps.db, secret);
      if (!who) throw new ApiError(401, 'unauthorized', 'unknown or revoked token');
    } else {
      const session = await findSession(deps.db, cookie!);
      if (!session) throw new ApiError(401, 'unauthorized', 'the session has expired or ended; log in again');
      const refusal = csrfRefusal(
        {
          method: c.req.method,
          host: c.req.header('host'),
          origin: c.req.header('origin'),
          fetchSite: c.req.header('sec-fetch-site'),
          token: c.req.header(CSRF_HEADER),
        },
        await csrfTokenFor(cookie!),
      );
      if (refusal) throw new ApiError(403, 'csrf', refusal);
      c.set('session', { secret: cookie!, expiresAt: session.expiresAt });
      who = session;
    }
    const need = neededScope(c.req.method, c.req.path);
    if (!scopeAllows(who.scope, need)) throw new ApiError(403, 'forbidden', `this needs a token of scope ${need}; yours is ${who.scope}`);
    await touchToken(deps.db, who);
    c.set('auth', { id: who.id, orgId: who.orgId, name: who.name, scope: who.scope, lastUsedAt: who.lastUsedAt });
    return next();
  });

  app.use('/v1/*', refuseNul);

  registerOpsRoutes(app, deps);
  registerSpecRoutes(app, deps);
  registerSiteRoutes(app, deps);
  registerStatusRoutes(app, deps, status);
  registerRolloutRoutes(app, deps);
  registerEnrollmentRoutes(app, deps);
  registerAgentReportRoutes(app, deps);
  registerTokenRoutes(app, deps);
  registerWebhookRoutes(app, deps);
  registerKeyRoutes(app, deps);
  registerSessionRoutes(app, deps);
  registerOverrideRoutes(app, deps);
  registerAuditRoutes(app, deps);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', BEARER_SCHEME);
  app.openAPIRegistry.registerComponent('securitySchemes', 'nodeBasic', {
    type: 'http',
    scheme: 'basic',
    description: "A node's broker credentials from enrollment (username: the node id).",
  });
  registerPublicStatusDoc(app.openAPIRegistry);
  // The server the document lists is the one that served it.
  app.doc31('/openapi.json', (c) => openApiConfig(new URL(c.req.url).origin));

  app.route(
    '/',
    createPagesRouter({
      loadView: (site, of) => status.byName(site, Date.now(), of),
      listViews: () => status.all(),
      loadHistory: (siteId, subjects, since) => readHistory(deps.db, siteId, subjects, since),
      loadAlerts: (siteId, since) => readAlerts(deps.db, siteId, since),
      loadDashboard: async (of) => loadDashboard(deps.db, await status.all(Date.now(), of), Date.now()),
      loadDiff: async (site, from, to, of) => {
        const view = await status.byName(site, Date.now(), of);
        return view ? revisionDiff(deps.db, view.siteId, from, to) : null;
      },
      viewer: async (authorization, cookie) => {
        const secret = bearer(authorization);
        const session = secret ? null : sessionFromCookieHeader(cookie);
        const who = secret ? await findToken(deps.db, secret) : session ? await findSession(deps.db, session) : null;
        return who ? { orgId: who.orgId } : null;
      },
    }),
  );
  return app;
}
