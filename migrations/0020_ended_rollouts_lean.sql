-- Ended rollouts are kept without the parts of their plan only the rollout driver reads (the nodes
-- the revision changes, the nodes it watched, the health baseline): cloud/src/rollout/plan.ts
-- `planToKeep`. The rows that ended before this build kept them; this drops them once.
UPDATE "rollouts" SET "plan" = "plan" - 'nodes' - 'watched' - 'baseline'
  WHERE "state" NOT IN ('pending', 'running', 'paused') AND "plan" ?| array['nodes', 'watched', 'baseline'];
