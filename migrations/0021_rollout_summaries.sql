-- Each rollout keeps its plan as a history lists it (cloud/src/rollout/summary.ts `planSummary`):
-- the plan's own fields with counts in place of its lists of nodes, written with the plan. The
-- history's listings and the dashboard read it instead of counting the plan's lists at each read.
-- The rows written before this build get theirs here, computed as `planSummary` does.
ALTER TABLE "rollouts" ADD COLUMN "summary" jsonb;--> statement-breakpoint
UPDATE "rollouts" SET "summary" = jsonb_build_object(
  'previousRevision', "plan"->'previousRevision',
  'bakeMs', "plan"->'bakeMs',
  'stageTimeoutMs', "plan"->'stageTimeoutMs',
  'stage', "plan"->'stage',
  'stageStartedAt', "plan"->'stageStartedAt',
  'bakeStartedAt', "plan"->'bakeStartedAt',
  'reason', "plan"->'reason',
  'stages', coalesce((
    SELECT jsonb_agg(jsonb_build_object('name', s.stage->'name', 'nodeCount', jsonb_array_length(s.stage->'nodes')) ORDER BY s.at)
    FROM jsonb_array_elements("plan"->'stages') WITH ORDINALITY AS s(stage, at)), '[]'::jsonb),
  'releasedCount', jsonb_array_length("plan"->'released'));--> statement-breakpoint
ALTER TABLE "rollouts" ALTER COLUMN "summary" SET NOT NULL;
