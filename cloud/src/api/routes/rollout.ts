import { createRoute, type z } from '@hono/zod-openapi';
import { advanceRollout } from '../../rollout/advance.ts';
import { isActive, type Rollout } from '../../rollout/plan.ts';
import { activeRollout, rolloutHistory, type RolloutRow } from '../../rollout/store.ts';
import { DomainError } from '../../sites/errors.ts';
import { requireSite } from '../../sites/queries.ts';
import type { App, AppDeps } from '../context.ts';
import { RolloutStatus, RolloutView, SiteParam } from '../schemas.ts';
import { authErrors, errorResponse, notFoundError } from './common.ts';

const HISTORY = 20;

const getRollout = createRoute({
  method: 'get',
  path: '/v1/sites/{site}/rollout',
  operationId: 'getRollout',
  tags: ['rollout'],
  description:
    'A site with a rollout policy gets a new revision in stages: real servers and BACKUP directors first, then the MASTER after the bake. Viewer token.',
  summary: "The site's staged rollout in progress (if any) and its recent rollouts",
  request: { params: SiteParam },
  responses: {
    200: { content: { 'application/json': { schema: RolloutStatus } }, description: 'current and history, newest first' },
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
    const rows = await rolloutHistory(deps.db, site.id, HISTORY);
    const current = rows.find((r) => isActive(r)) ?? null;
    return c.json({ site: site.name, current: current ? rolloutView(current) : null, history: rows.map(rolloutView) }, 200);
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
