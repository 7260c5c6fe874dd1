import { createRoute, z } from '@hono/zod-openapi';
import { readKeyRows, readNodeKeys } from '../../keys/key-store.ts';
import { rotateKey } from '../../keys/rotate.ts';
import { generationOf, keyListing } from '../../keys/rotation.ts';
import { STALE_AFTER_MS } from '../../status/book.ts';
import { KEY_STATES } from '#shared/wire/key-trust.ts';
import type { App, AppDeps } from '../context.ts';
import { authErrors, errorResponse } from './common.ts';

const KeyRowBody = z.object({
  kid: z.string(),
  state: z.enum(KEY_STATES),
  createdAt: z.string(),
  previousKid: z.string().nullable(),
  acknowledged: z.number().int().openapi({ description: 'enrolled nodes that reported this key pinned' }),
  missing: z.array(z.string()).openapi({ description: 'enrolled nodes that have not reported this key pinned (empty for a retired key)' }),
});

const list = createRoute({
  method: 'get',
  path: '/v1/keys',
  operationId: 'listSigningKeys',
  tags: ['keys'],
  description:
    'Every signing key with its state (announced, active, retiring, retired), the nodes that acknowledged it and those still missing it. Admin token.',
  summary: 'Signing keys with their rotation state and the nodes that have not pinned each one yet (admin)',
  responses: {
    200: {
      content: { 'application/json': { schema: z.object({ generation: z.number().int(), keys: z.array(KeyRowBody) }) } },
      description: 'keys oldest first, public parts only',
    },
    ...authErrors,
  },
});

const rotate = createRoute({
  method: 'post',
  path: '/v1/keys/rotate',
  operationId: 'rotateSigningKey',
  tags: ['keys'],
  summary: 'Announce a new signing key (admin)',
  description:
    'Makes a key and announces it in the documents signed by the active key. It signs documents once every online node has pinned it; the key it replaces retires once every enrolled node has pinned a newer one.',
  responses: {
    200: {
      content: {
        'application/json': { schema: z.object({ kid: z.string(), previous: z.string(), generation: z.number().int(), state: z.literal('announced') }) },
      },
      description: 'the announced key',
    },
    409: errorResponse('a rotation is still in progress, or too many keys wait for acknowledgements'),
    ...authErrors,
  },
});

export function registerKeyRoutes(app: App, deps: AppDeps): void {
  app.openapi(list, async (c) => {
    const rows = await readKeyRows(deps.db);
    const nodes = await readNodeKeys(deps.db, new Date(), STALE_AFTER_MS);
    return c.json({ generation: generationOf(rows), keys: keyListing(rows, nodes) }, 200);
  });
  app.openapi(rotate, async (c) => {
    const who = c.get('auth');
    const made = await rotateKey(deps.db, { orgId: who.orgId, actor: who.name }, new Date(), deps.keySecret);
    deps.kickKeys?.();
    return c.json({ ...made, state: 'announced' as const }, 200);
  });
}
