import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { StatusSummary } from './summary-json.ts';

const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/**
 * Documents the status page's JSON in the OpenAPI document. The page routes are plain Hono (they
 * serve HTML, SVG and Atom too), so the JSON route is described here rather than declared with createRoute.
 */
export function registerPublicStatusDoc(registry: OpenAPIHono['openAPIRegistry']): void {
  registry.registerPath({
    method: 'get',
    path: '/status/{site}.json',
    operationId: 'getPublicStatusSummary',
    tags: ['status pages'],
    summary: "A site's status page as Statuspage's summary.json",
    description:
      'The page, an overall indicator, one component per service and per failover group with Statuspage status words (lvsfleet_state carries unknown, which Statuspage has no word for), and the unresolved incidents. Public sites answer anyone; a private site needs a viewer token. Any origin may read it (CORS *). With hideAddresses, no address appears.',
    security: [{}, { bearer: [] }],
    request: { params: z.object({ site: z.string().openapi({ example: 'bj-dc1' }) }) },
    responses: {
      200: { description: 'the summary', content: { 'application/json': { schema: StatusSummary } } },
      401: { description: 'no public page of that name, and no viewer token', content: { 'application/json': { schema: ErrorBody } } },
      404: { description: 'no such site', content: { 'application/json': { schema: ErrorBody } } },
    },
  });
}
