import { createRoute, z } from '@hono/zod-openapi';
import { advanceRollout } from '../../rollout/advance.ts';
import { isActive, type Rollout } from '../../rollout/plan.ts';
import { activeRollout, rolloutHistory, rolloutSummaries, type RolloutRow } from '../../rollout/store.ts';
import { summaryJson } from '../../rollout/summary.ts';
import { DomainError } from '../../sites/errors.ts';
import { requireSite } from '../../sites/queries.ts';
import type { App, AppDeps } from '../context.ts';
import { RolloutStatus, RolloutSummary, RolloutView, SiteParam } from '../schemas.ts';
import { authErrors, badRequest, errorResponse, notFoundError } from './common.ts';

const getRollout = createRoute({
  method: 'get',
  path: '/v1/sites/{site}/rollout',
  operationId: 'getRollout',
  tags: ['rollout'],
  description:
    'A site with a rollout policy gets a new revision in stages: real servers and BACKUP directors first, then the MASTER after the bake. Viewer token.',
  summary: "The site's staged rollout in progress (if any) and its recent rollouts",
  request: {
    params: SiteParam,
    query: z.object({
      history: z.coerce.number().int().min(0).max(100).default(20).openapi({
        description:
          'how many of the newest rollouts `history` lists (0–100, default 20), each with its lists of nodes: about half a megabyte apiece at 10,000 nodes. `GET /v1/sites/{site}/rollouts` lists them with counts instead.',
      }),
    }),
  },
  responses: {
    200: { content: { 'application/json': { schema: RolloutStatus } }, description: 'current and history, newest first' },
    ...badRequest,
    ...authErrors,
    ...notFoundError,
  },
});

const listRollouts = createRoute({
  method: 'get',
  path: '/v1/sites/{site}/rollouts',
  operationId: 'listRollouts',
  tags: ['rollout'],
  description:
    "The site's rollouts, newest first, each with its stages' node counts and its released count instead of the nodes' names (which `GET /v1/sites/{site}/rollout` lists). Page with `before`: each answer carries the `next` cursor, null on the last page. Viewer token.",
  summary: "The site's rollouts, without their lists of nodes",
  request: {
    params: SiteParam,
    query: z.object({
      before: z.coerce.number().int().min(1).optional().openapi({ description: 'the `next` of the previous page: rollouts of revisions below it' }),
      limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: 'rollouts per page (1–100, default 20)' }),
    }),
  },
  responses: {
    200: {
      content: {
        'application/json': { schema: z.object({ site: z.string(), rollouts: z.array(RolloutSummary), next: z.number().int().nullable() }) },
      },
      description: 'one page of rollouts, newest first',
    },
    ...badRequest,
    ...authErrors,
    ...notFoundError,
  },
});

const COMMANDS = {
  pause: 'Hold the rollout in progress at its stage (a failure still rolls it back)',
  resume: 'Let a paused rollout go on; the stage bakes again from the start',
  abort: 'Stop the rollout in progress and restore the previous revision on the nodes that received it',
} as const;

function commandRoute(cmd: keyof typeof COMMANDS) {
  return createRoute({
    method: 'post',
    path: `/v1/sites/{site}/rollout/${cmd}`,
    operationId: `${cmd}Rollout`,
    tags: ['rollout'],
    description: `${COMMANDS[cmd]}. Operator token.`,
    summary: COMMANDS[cmd],
    request: { params: SiteParam },
    responses: {
      200: { content: { 'application/json': { schema: RolloutView } }, description: 'the rollout after the command' },
      ...authErrors,
      ...notFoundError,
      409: errorResponse('no rollout in progress (rollout_not_active)'),
    },
  });
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A rollout row as the API answers it: none of the plan's parts that `rolloutHistory` and `rolloutOf` leave out. */
export function rolloutView(row: RolloutRow): z.infer<typeof RolloutView> {
  const p = row.plan as Rollout;
  return {
    revision: row.revision,
    previousRevision: p.previousRevision,
    state: row.state,
    author: row.author,
    bakeMs: p.bakeMs,
    stageTimeoutMs: p.stageTimeoutMs,
    stages: p.stages,
    stage: p.stage,
    stageStartedAt: iso(p.stageStartedAt),
    bakeStartedAt: iso(p.bakeStartedAt),
    released: p.released,
    reason: p.reason,
    rollbackRevision: row.rollbackRevision,
    createdAt: row.createdAt.toISOString(),
    endedAt: row.endedAt?.toISOString() ?? null,
  };
}

export function registerRolloutRoutes(app: App, deps: AppDeps): void {
  app.openapi(getRollout, async (c) => {
    const site = await requireSite(deps.db, c.get('auth').orgId, c.req.valid('param').site);
    const { history } = c.req.valid('query');
    // The one in progress is the newest (an apply is refused while it runs), so one row finds it
    // even when no history is asked for.
    const rows = await rolloutHistory(deps.db, site.id, Math.max(history, 1));
    const current = rows.find((r) => isActive(r)) ?? null;
    return c.json({ site: site.name, current: current ? rolloutView(current) : null, history: rows.slice(0, history).map(rolloutView) }, 200);
  });

  app.openapi(listRollouts, async (c) => {
    const site = await requireSite(deps.db, c.get('auth').orgId, c.req.valid('param').site);
    const { before, limit } = c.req.valid('query');
    // One more than the page: whether there is a next one.
    const rows = await rolloutSummaries(deps.db, site.id, { before, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return c.json({ site: site.name, rollouts: page.map(summaryJson), next: rows.length > limit ? page[page.length - 1].revision : null }, 200);
  });

  for (const cmd of ['pause', 'resume', 'abort'] as const) {
    app.openapi(commandRoute(cmd), async (c) => {
      const who = c.get('auth');
      const site = await requireSite(deps.db, who.orgId, c.req.valid('param').site);
      const row = await activeRollout(deps.db, site.id);
      if (!row) throw new DomainError('rollout_not_active', `site "${site.name}" has no rollout in progress`);
      const after = await advanceRollout({ db: deps.db, kick: deps.kick, log: deps.log }, row.id, { type: cmd, by: who.name }, new Date());
      if (!after) throw new DomainError('rollout_not_active', `site "${site.name}" has no rollout in progress`);
      return c.json(rolloutView(after), 200);
    });
  }
}
