import type { Rollout, RolloutState } from './plan.ts';

/** The plan's own fields a summary carries as they are. */
type Head = Pick<Rollout, 'previousRevision' | 'bakeMs' | 'stageTimeoutMs' | 'stage' | 'stageStartedAt' | 'bakeStartedAt' | 'reason'>;

/**
 * A rollout's plan as a history lists it: its own fields, with counts in place of its lists of
 * nodes. Stored beside the plan at every write of it (the `rollouts.summary` column), so that the
 * listings never read the plan: a 10,000-node rollout's stages and released nodes are about half a
 * megabyte of names.
 */
export interface PlanSummary extends Head {
  stages: { name: Rollout['stages'][number]['name']; nodeCount: number }[];
  /** How many nodes got the revision: the ones a rollback restores. */
  releasedCount: number;
}

/** The summary of `p`; migration 0021 computes the same in SQL for the rows written before it. */
export function planSummary(p: Head & Pick<Rollout, 'stages' | 'released'>): PlanSummary {
  return {
    previousRevision: p.previousRevision,
    bakeMs: p.bakeMs,
    stageTimeoutMs: p.stageTimeoutMs,
    stage: p.stage,
    stageStartedAt: p.stageStartedAt,
    bakeStartedAt: p.bakeStartedAt,
    reason: p.reason,
    stages: p.stages.map((s) => ({ name: s.name, nodeCount: s.nodes.length })),
    releasedCount: p.released.length,
  };
}

/** A rollout's row as the listings read it (`rolloutSummaries`, the dashboard's read). */
export interface RolloutSummaryRow {
  revision: number;
  state: RolloutState;
  author: string;
  rollbackRevision: number | null;
  createdAt: Date;
  endedAt: Date | null;
  summary: PlanSummary;
}

/** A summary as the API and the dashboard answer it: the row's fields and the plan's, times as ISO texts. */
export interface RolloutSummaryJson extends Omit<PlanSummary, 'stageStartedAt' | 'bakeStartedAt'> {
  revision: number;
  state: RolloutState;
  author: string;
  stageStartedAt: string | null;
  bakeStartedAt: string | null;
  rollbackRevision: number | null;
  createdAt: string;
  endedAt: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function summaryJson(r: RolloutSummaryRow): RolloutSummaryJson {
  const s = r.summary;
  return {
    revision: r.revision,
    previousRevision: s.previousRevision,
    state: r.state,
    author: r.author,
    bakeMs: s.bakeMs,
    stageTimeoutMs: s.stageTimeoutMs,
    stages: s.stages,
    stage: s.stage,
    stageStartedAt: iso(s.stageStartedAt),
    bakeStartedAt: iso(s.bakeStartedAt),
    releasedCount: s.releasedCount,
    reason: s.reason,
    rollbackRevision: r.rollbackRevision,
    createdAt: r.createdAt.toISOString(),
    endedAt: r.endedAt?.toISOString() ?? null,
  };
}
