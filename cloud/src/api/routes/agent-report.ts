import { z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { topics } from '#shared/wire/topics.ts';
import { MAX_EVENT_BYTES } from '#shared/wire/events.ts';
import { nodes } from '../../db/schema.ts';
import { classify } from '../../ingest/decide.ts';
import { recordReport } from '../../ingest/record.ts';
import type { App, AppDeps } from '../context.ts';
import { ApiError } from '../errors.ts';
import { nodeAuthenticator } from '../node-auth.ts';
import { errorResponse } from './common.ts';

/** The report routes, authenticated by the node's credentials instead of a bearer token. */
export const NODE_REPORT_ROUTES = ['POST /v1/agent/status', 'POST /v1/agent/events'];

const KINDS = { status: topics.status, events: topics.events } as const;

/**
 * `POST /v1/agent/status` and `POST /v1/agent/events`: what an agent publishes on its MQTT
 * `status` and `events` topics, sent over HTTPS too, so a deployment with no process subscribed to
 * the broker (Workers) still hears from its nodes. The node is the one whose credentials
 * authenticate the request (as its broker login would); the body is judged by the same rules as
 * an MQTT message on that node's topic (`classify`: size, JSON, schema, a payload naming another
 * node refused) and stored by the same code (`recordReport`). A status with `online: false` is
 * the node's own goodbye; one that never comes is found by the status model as a stale report.
 */
export function registerAgentReportRoutes(app: App, deps: AppDeps): void {
  const authenticate = nodeAuthenticator();
  for (const kind of ['status', 'events'] as const) {
    app.openAPIRegistry.registerPath({
      method: 'post',
      path: `/v1/agent/${kind}`,
      operationId: kind === 'status' ? 'reportAgentStatus' : 'reportAgentEvent',
      tags: ['enrollment'],
      summary: kind === 'status' ? "An agent's status report over HTTPS" : "One of an agent's events over HTTPS",
      description: `${
        kind === 'status'
          ? "The node's status document, as it publishes it retained on its MQTT status topic; the newest replaces the one before."
          : `One event of the node, as it publishes it on its MQTT events topic (at most ${MAX_EVENT_BYTES} bytes).`
      } Authenticated by HTTP Basic with the broker credentials the node received at enrollment (username: the node id), not by a bearer token. A payload that names another node is refused.`,
      security: [{ nodeBasic: [] }],
      request: { body: { content: { 'application/json': { schema: z.object({ nodeId: z.string() }).passthrough() } }, required: true } },
      responses: {
        204: { description: 'stored' },
        400: errorResponse('not JSON, or not a valid report (bad_request)'),
        401: errorResponse('missing or wrong node credentials (unauthorized)'),
        403: errorResponse('the payload names another node (forbidden)'),
      },
    });
    app.post(`/v1/agent/${kind}`, async (c) => {
      const who = await authenticate(deps.db, c.req.header('authorization'), deps.clientAddress?.(c) ?? 'unknown', Date.now());
      if ('refused' in who) throw new ApiError(401, 'unauthorized', who.refused);
      const payload = new Uint8Array(await c.req.arrayBuffer());
      const msg = classify(KINDS[kind](who.nodeId), payload);
      if (msg.kind === 'reject')
        throw new ApiError(msg.reason === 'node_mismatch' ? 403 : 400, msg.reason === 'node_mismatch' ? 'forbidden' : 'bad_request', msg.detail);
      if (msg.kind === 'ignore') throw new ApiError(400, 'bad_request', 'an empty report');
      const [node] = await deps.db.select({ siteId: nodes.siteId }).from(nodes).where(eq(nodes.id, who.nodeId)).limit(1);
      if (!node) throw new ApiError(401, 'unauthorized', `no node ${who.nodeId}`);
      await recordReport(deps.db, node.siteId, msg, new Date(), payload);
      return c.body(null, 204);
    });
  }
}
