import * as z from 'zod';
import { durationMs, Duration } from '../util/duration.ts';
import type { Site } from './site.ts';

const MAX_BAKE_MS = 3_600_000;
const MIN_STAGE_TIMEOUT_MS = 10_000;

/**
 * Staged rollout of a revision (spec.rollout): real servers and BACKUP directors first, then,
 * once every one of them has applied the revision and stayed healthy for `bake`, the MASTER
 * directors; a failure or a health regression on the way rolls the changed nodes back.
 */
export const RolloutPolicy = z.strictObject({
  /** Default: on when the site has a VRRP instance of two or more directors (there is a backup to go first). */
  enabled: z.boolean().optional(),
  /** How long a stage must stay applied and healthy before the next stage starts (default 30s). */
  bake: Duration.refine((t) => durationMs(t) <= MAX_BAKE_MS, {
    message: 'at most 1h: a longer bake holds the MASTER directors back for longer than anyone watches',
  }).optional(),
  /** How long a stage may take to report the revision applied before the rollout rolls back (default 5m). */
  stageTimeout: Duration.refine((t) => durationMs(t) >= MIN_STAGE_TIMEOUT_MS, {
    message: 'at least 10s: agents need time to receive and apply a revision',
  }).optional(),
});
export type RolloutPolicy = z.infer<typeof RolloutPolicy>;

const ROLLOUT_DEFAULTS = { bakeMs: 30_000, stageTimeoutMs: 300_000 };

/** The policy with its defaults filled in. */
export interface ResolvedRollout {
  enabled: boolean;
  bakeMs: number;
  stageTimeoutMs: number;
}

/** spec.rollout resolved: enabled by default only where VRRP pairs a backup with a master. */
export function resolveRollout(site: Site): ResolvedRollout {
  const p = site.spec.rollout ?? {};
  const paired = (site.spec.vrrp ?? []).some((v) => v.members.length >= 2);
  return {
    enabled: p.enabled ?? paired,
    bakeMs: p.bake ? durationMs(p.bake) : ROLLOUT_DEFAULTS.bakeMs,
    stageTimeoutMs: p.stageTimeout ? durationMs(p.stageTimeout) : ROLLOUT_DEFAULTS.stageTimeoutMs,
  };
}
