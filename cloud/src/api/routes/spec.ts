import { createRoute, z } from '@hono/zod-openapi';
import { parseSite } from '#shared/site/parse.ts';
import { Site as SiteSchema, type Site } from '#shared/site/site.ts';
import { scopeAllows } from '../../auth/tokens.ts';
import { applySite, type Handoff } from '../../sites/apply.ts';
import { CONFIG_FIELDS_LIMIT } from '../../sites/diff.ts';
import { DomainError } from '../../sites/errors.ts';
import { getRevision, requireSite } from '../../sites/queries.ts';
import { SiteStates } from '../../sites/site-states.ts';
import { REDACTED, restoreSecrets } from '../../sites/secrets.ts';
import type { App, AppDeps } from '../context.ts';
import { ApiError } from '../errors.ts';
import { ApplyResultSchema, RollbackBody, SiteParam } from '../schemas.ts';
import { authErrors, badRequest, errorResponse, notFoundError } from './common.ts';

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'text/plain'];

/** The spec's route, for the body limit the app sets before any route reads a body. */
export const SPEC_PATH = /^\/v1\/sites\/[^/]+\/spec$/;

/** How a spec body of this content type is read: JSON, or YAML (anything else is refused, 415, by the route). */
export const specFormatOf = (contentType: string | undefined): 'json' | 'yaml' =>
  (contentType ?? '').split(';')[0].trim().toLowerCase() === 'application/json' ? 'json' : 'yaml';

const MiB = 1024 * 1024;

/**
 * The largest spec body by format. JSON: 4 MiB, a site of about 40,000 nodes, which holds about
 * 85 MB more heap while it is validated, compiled and hashed. YAML: 2 MiB, about 15,000 nodes: the
 * YAML document keeps every node's position for the lines of its issues, and a 10,000-node site's
 * 1.3 MB took 0.75-0.9 s of the server's thread (its JSON 50 ms) and 80 MB more memory.
 */
export const SPEC_BODY_LIMITS = { json: 4 * MiB, yaml: 2 * MiB } as const;
const flag = z.enum(['0', '1', 'true', 'false']).optional();
const on = (v: string | undefined) => v === '1' || v === 'true';

const putSpec = createRoute({
  method: 'put',
  path: '/v1/sites/{site}/spec',
  operationId: 'putSiteSpec',
  tags: ['sites'],
  description:
    'Validates the spec (YAML or JSON; shape, then meaning), compiles one config per node and stores a new revision, publishing to the nodes whose config changed. An identical spec answers the current revision unchanged. `dryRun=1` only answers the diff (field by field); an apply lists the field changes of the changed node configs when at most ' +
    CONFIG_FIELDS_LIMIT +
    ' changed, or with `diff=full`; `force=1` allows removing more than half of the services or real servers; `If-Match` refuses a stale base revision. Operator token; adding or changing scripts needs admin.',
  summary: 'Validate and store a new revision of a site (or, with dryRun, only answer the diff)',
  request: {
    params: SiteParam,
    query: z.object({ dryRun: flag, force: flag, diff: z.enum(['full', 'auto']).optional(), message: z.string().max(1000).optional() }),
    headers: z.object({ 'if-match': z.string().optional() }),
    body: {
      description: 'The site spec as JSON or YAML',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/SiteSpecDocument' } }, 'application/yaml': { schema: { type: 'string' } } },
    },
  },
  responses: {
    200: { content: { 'application/json': { schema: ApplyResultSchema } }, description: 'the stored (or unchanged, or dry-run) revision and its diff' },
    ...badRequest,
    ...authErrors,
    403: errorResponse('token scope too low, or a command hosts execute added or changed without an admin token (issues name the fields)'),
    409: errorResponse('stale If-Match revision (stale_revision) or a mass delete without force (mass_delete)'),
    413: errorResponse(`a JSON spec over ${SPEC_BODY_LIMITS.json / MiB} MiB, or a YAML one over ${SPEC_BODY_LIMITS.yaml / MiB} MiB`),
    415: errorResponse('neither JSON nor YAML'),
    422: errorResponse('the spec is invalid; issues carry path and line'),
  },
});

const rollback = createRoute({
  method: 'post',
  path: '/v1/sites/{site}/rollback',
  operationId: 'rollbackSite',
  tags: ['sites'],
  description: 'Stores the spec of an earlier revision as a new revision (history is never rewritten) and publishes it like an apply. Operator token.',
  summary: "Make a new revision that repeats an earlier revision's spec",
  request: { params: SiteParam, body: { content: { 'application/json': { schema: RollbackBody } }, required: true } },
  responses: {
    200: { content: { 'application/json': { schema: ApplyResultSchema } }, description: 'the new revision' },
    ...badRequest,
    ...authErrors,
    ...notFoundError,
    409: errorResponse('mass delete without force'),
  },
});

let siteSchemaCache: Record<string, unknown> | undefined;

/**
 * The site spec's JSON Schema, generated from the zod schema in shared/ (semantic rules such as
 * unique VRIDs are not expressible there; the API still checks them and answers 422).
 */
function siteJsonSchema(): Record<string, unknown> {
  if (!siteSchemaCache) {
    const { $schema: _drop, ...rest } = z.toJSONSchema(SiteSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    siteSchemaCache = { ...rest, description: 'A site spec, as JSON or YAML' };
  }
  return siteSchemaCache;
}

/** If-Match: `3`, `"3"` or `W/"3"`. */
function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '' || header.trim() === '*') return undefined;
  const m = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(header);
  if (!m) throw new ApiError(400, 'bad_request', 'If-Match must be a revision number');
  return Number(m[1]);
}

/** Body text → validated Site, or 400 (unparsable, with the line) / 415 / 422 (invalid, with path and line). */
function readSpec(contentType: string | undefined, text: string): Site {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type && type !== 'application/json' && !YAML_TYPES.includes(type)) {
    throw new ApiError(415, 'unsupported_media_type', `send the spec as application/json or application/yaml, not ${type}`);
  }
  if (text.trim() === '') throw new ApiError(400, 'parse_error', 'empty body: send a site spec');
  const format = specFormatOf(contentType);
  // jit: the server validates spec after spec, so zod's compiled fast path pays for itself.
  const result = parseSite(text, { format, jit: true });
  if (result.ok) return result.site;
  switch (result.kind) {
    case 'syntax':
      throw new ApiError(400, 'parse_error', `the body is not valid ${format === 'json' ? 'JSON' : 'YAML'}`, result.issues);
    case 'invalid':
      throw new ApiError(422, 'invalid_spec', `the spec has ${result.issues.length} problem(s)`, result.issues);
  }
}

/** The host's hand-off for one apply, and whether the apply used it (then the kick needs no outbox read). */
function handoffOnce(deps: AppDeps): { take?: Handoff; readonly used: boolean } {
  let used = false;
  const to = deps.handoff;
  return {
    take: to
      ? (rows) => {
          used = true;
          to(rows);
        }
      : undefined,
    get used() {
      return used;
    },
  };
}

export function registerSpecRoutes(app: App, deps: AppDeps): void {
  // This app's memory of the sites it applied (each app its own, like each replica): checked
  // against the site row at every apply, so another replica's write is never missed.
  const states = new SiteStates();
  app.openAPIRegistry.registerComponent('schemas', 'SiteSpecDocument', siteJsonSchema() as never);

  app.openapi(putSpec, async (c) => {
    const { site } = c.req.valid('param');
    const q = c.req.valid('query');
    const text = await c.req.text();
    const who = c.get('auth');
    let spec = readSpec(c.req.header('content-type'), text);
    // A spec read below admin scope comes back with redacted passwords: keep the stored ones.
    if (text.includes(REDACTED)) {
      const row = await requireSite(deps.db, who.orgId, site).catch((err: unknown) => {
        if (err instanceof DomainError && err.code === 'not_found') return null;
        throw err;
      });
      spec = restoreSecrets(spec, row ? (await getRevision(deps.db, row, row.currentRevision)).spec : null);
    }
    const handoff = handoffOnce(deps);
    const result = await applySite(
      deps.db,
      {
        orgId: who.orgId,
        site: spec,
        siteName: site,
        author: who.name,
        message: q.message,
        ifMatch: parseIfMatch(c.req.header('if-match')),
        force: on(q.force),
        dryRun: on(q.dryRun),
        fullDiff: q.diff === 'full',
        mayChangeScripts: scopeAllows(who.scope, 'admin'),
      },
      handoff.take,
      states,
    );
    if (!result.dryRun && !result.unchanged) deps.kick?.({ handedOff: handoff.used });
    c.header('ETag', `"${result.revision}"`);
    return c.json(result, 200);
  });

  app.openapi(rollback, async (c) => {
    const { site } = c.req.valid('param');
    const body = c.req.valid('json');
    const who = c.get('auth');
    const row = await requireSite(deps.db, who.orgId, site);
    const old = await getRevision(deps.db, row, body.revision);
    const handoff = handoffOnce(deps);
    const result = await applySite(
      deps.db,
      {
        orgId: who.orgId,
        site: old.spec,
        author: who.name,
        message: body.message ?? `rollback to revision ${body.revision}`,
        force: body.force,
        rolledBackFrom: body.revision,
        mayChangeScripts: scopeAllows(who.scope, 'admin'),
      },
      handoff.take,
      states,
    );
    if (!result.unchanged) deps.kick?.({ handedOff: handoff.used });
    return c.json(result, 200);
  });
}
