import { createRoute, type z } from '@hono/zod-openapi';
import { EnrollmentTokenResponse, EnrollRequest, EnrollResponse } from '#shared/wire/enroll.ts';
import { createEnrollmentToken, redeemEnrollmentToken } from '../../sites/enrollment.ts';
import { requireSite } from '../../sites/queries.ts';
import type { App, AppDeps } from '../context.ts';
import { ApiError } from '../errors.ts';
import { EnrollmentBody, NodeParam } from '../schemas.ts';
import { authErrors, badRequest, errorResponse, notFoundError } from './common.ts';

const makeToken = createRoute({
  method: 'post',
  path: '/v1/sites/{site}/nodes/{node}/enrollment',
  operationId: 'createEnrollmentToken',
  tags: ['enrollment'],
  description:
    "A one-time token the agent on that node trades at `POST /v1/agent/enroll`. For a node already enrolled, `replace: true` is required: its agent's credentials stop working when the token is used. Operator token.",
  summary: 'A one-time enrollment token for a node (default lifetime 1 h)',
  request: { params: NodeParam, body: { content: { 'application/json': { schema: EnrollmentBody } } } },
  responses: {
    200: { content: { 'application/json': { schema: EnrollmentTokenResponse } }, description: 'token, shown once' },
    ...badRequest,
    ...authErrors,
    ...notFoundError,
    409: errorResponse('the node is already enrolled and the body does not say "replace": true (already_enrolled)'),
  },
});

const enroll = createRoute({
  method: 'post',
  path: '/v1/agent/enroll',
  operationId: 'enrollAgent',
  tags: ['enrollment'],
  description:
    "Authenticated by the one-time enrollment token in the body (no bearer token): answers the node's identity, its broker credentials and the cloud's public signing keys, which the agent pins. Use HTTPS: the keys are as trustworthy as this exchange.",
  summary: 'An agent trades its enrollment token for broker credentials and the signing keys to pin',
  security: [],
  request: { body: { content: { 'application/json': { schema: EnrollRequest } }, required: true } },
  responses: {
    200: { content: { 'application/json': { schema: EnrollResponse } }, description: 'credentials and keys' },
    ...badRequest,
    401: errorResponse('unknown, used or expired token (invalid_token)'),
    409: errorResponse('the node was enrolled after this token was made (already_enrolled)'),
    503: errorResponse('this deployment has no broker credentials or signing keys to hand out'),
  },
});

export function registerEnrollmentRoutes(app: App, deps: AppDeps): void {
  app.openapi(makeToken, async (c) => {
    const { site, node } = c.req.valid('param');
    const body = c.req.valid('json');
    const who = c.get('auth');
    const row = await requireSite(deps.db, who.orgId, site);
    const ttlMs = body.ttlSeconds !== undefined ? body.ttlSeconds * 1000 : deps.enrollmentTtlMs;
    return c.json(await createEnrollmentToken(deps.db, { orgId: who.orgId, site: row, node, actor: who.name, ttlMs, replace: body.replace }), 200);
  });

  app.openapi(enroll, async (c) => {
    const { signer, issueNodeCredentials, mqttUrl } = deps;
    if (!signer || !issueNodeCredentials || !mqttUrl) throw new ApiError(503, 'unavailable', 'enrollment is not available on this deployment');
    const { token } = c.req.valid('json');
    const keys = await signer.publicJwks();
    const done = await redeemEnrollmentToken(deps.db, token, (tx, who) => issueNodeCredentials(tx, who.nodeId));
    const body: z.infer<typeof EnrollResponse> = {
      nodeId: done.nodeId,
      site: done.site,
      node: done.node,
      mqtt: { url: mqttUrl, username: done.result.username, password: done.result.password },
      keys: EnrollResponse.shape.keys.parse(keys),
      ...(deps.reportUrl ? { report: { url: deps.reportUrl } } : {}),
    };
    return c.json(body, 200);
  });
}
