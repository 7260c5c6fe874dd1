import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, eq, isNull } from 'drizzle-orm';
import { createApiToken } from '../../auth/tokens.ts';
import { apiTokens } from '../../db/schema.ts';
import { audit } from '../../sites/audit.ts';
import type { App, AppDeps } from '../context.ts';
import { notFound } from '../errors.ts';
import { TokenCreateBody, TokenRow } from '../schemas.ts';
import { authErrors, badRequest, notFoundError } from './common.ts';

const list = createRoute({
  method: 'get',
  path: '/v1/tokens',
  operationId: 'listTokens',
  tags: ['tokens'],
  description: 'Every API token of the org: name, scope, creation, expiry, last use and revocation. Never the secret.',
  summary: 'API tokens of the org (admin)',
  responses: {
    200: { content: { 'application/json': { schema: z.object({ tokens: z.array(TokenRow) }) } }, description: 'tokens, without secrets' },
    ...authErrors,
  },
});
const create = createRoute({
  method: 'post',
  path: '/v1/tokens',
  operationId: 'createToken',
  tags: ['tokens'],
  description:
    'Makes a token of scope viewer, operator or admin, optionally expiring after `ttlSeconds`. The secret is in this answer only; the server keeps its SHA-256.',
  summary: 'Make an API token (admin); the secret is answered once',
  request: { body: { content: { 'application/json': { schema: TokenCreateBody } }, required: true } },
  responses: {
    200: {
      content: { 'application/json': { schema: z.object({ id: z.string(), token: z.string(), scope: z.string(), expiresAt: z.string().nullable() }) } },
      description: 'the new token',
    },
    ...badRequest,
    ...authErrors,
  },
});
const revoke = createRoute({
  method: 'delete',
  path: '/v1/tokens/{id}',
  operationId: 'revokeToken',
  tags: ['tokens'],
  description: 'Revokes a token at once; requests with it answer 401 from then on.',
  summary: 'Revoke an API token (admin)',
  request: {
    params: z.object({
      id: z
        .string()
        .uuid()
        .openapi({ param: { name: 'id', in: 'path' } }),
    }),
  },
  responses: {
    200: { content: { 'application/json': { schema: z.object({ id: z.string(), revoked: z.literal(true) }) } }, description: 'revoked' },
    ...authErrors,
    ...notFoundError,
  },
});

export function registerTokenRoutes(app: App, deps: AppDeps): void {
  app.openapi(list, async (c) => {
    const rows = await deps.db
      .select()
      .from(apiTokens)
      .where(eq(apiTokens.orgId, c.get('auth').orgId))
      .orderBy(asc(apiTokens.createdAt));
    return c.json(
      {
        tokens: rows.map((r) => ({
          id: r.id,
          name: r.name,
          scope: r.scope,
          createdAt: r.createdAt.toISOString(),
          expiresAt: r.expiresAt?.toISOString() ?? null,
          lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
          revokedAt: r.revokedAt?.toISOString() ?? null,
        })),
      },
      200,
    );
  });
  app.openapi(create, async (c) => {
    const who = c.get('auth');
    const body = c.req.valid('json');
    const expiresAt = body.ttlSeconds ? new Date(Date.now() + body.ttlSeconds * 1000) : undefined;
    const made = await deps.db.transaction(async (tx) => {
      const t = await createApiToken(tx as never, { orgId: who.orgId, name: body.name, scope: body.scope, expiresAt });
      await audit(tx, {
        orgId: who.orgId,
        actor: who.name,
        action: 'token.create',
        target: t.id,
        detail: { name: body.name, scope: body.scope, expiresAt: expiresAt?.toISOString() ?? null },
      });
      return t;
    });
    return c.json({ id: made.id, token: made.secret, scope: body.scope, expiresAt: expiresAt?.toISOString() ?? null }, 200);
  });
  app.openapi(revoke, async (c) => {
    const who = c.get('auth');
    const { id } = c.req.valid('param');
    const done = await deps.db.transaction(async (tx) => {
      const rows = await tx
        .update(apiTokens)
        .set({ revokedAt: new Date() })
        .where(and(eq(apiTokens.id, id), eq(apiTokens.orgId, who.orgId), isNull(apiTokens.revokedAt)))
        .returning({ id: apiTokens.id });
      if (rows.length) await audit(tx, { orgId: who.orgId, actor: who.name, action: 'token.revoke', target: id });
      return rows.length > 0;
    });
    if (!done) throw notFound(`token ${id}`);
    return c.json({ id, revoked: true as const }, 200);
  });
}
