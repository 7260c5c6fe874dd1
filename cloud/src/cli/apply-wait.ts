import type { ApplyResult } from '../sites/apply.ts';
import type { ApiClient } from './client.ts';
import type { CliIO } from './io.ts';
import { progressOf, type NodeView, type RolloutView } from './rollout-progress.ts';
import { nameList } from '#shared/util/name-list.ts';

export interface WaitOptions {
  timeoutMs: number;
  /** The least time between two polls (default 1 s); a slow poll stretches it (POLL_COST_FACTOR). */
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A poll waits at least this many times as long as the last one took before the next: the wait
 * asks at most a fifth of the time, however large the site. (A poll reads the revision's progress,
 * 1.6 MB and 24–86 ms of the cloud's CPU at 10,000 nodes; it read the site's whole status and
 * rollouts, 7.5 MB and 120–245 ms, every second for the minutes a staged rollout runs.)
 */
export const POLL_COST_FACTOR = 4;

/**
 * `apply --wait`: follows the revision an apply stored until every node it was published to
 * reports it applied (and its staged rollout completed), printing each step once. Exit 0 when
 * done, 1 when a node failed, the rollout rolled back or was aborted, or the time ran out (the
 * rollout itself goes on in the cloud: `lvsfleet rollout status` follows it).
 */
export async function waitForRevision(client: ApiClient, io: CliIO, result: ApplyResult, opts: WaitOptions): Promise<number> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + opts.timeoutMs;
  const site = encodeURIComponent(result.site);
  const printed = new Set<string>();
  for (;;) {
    const asked = now();
    const progress = await client.call<{ nodes: NodeView[]; rollout: RolloutView | null }>('GET', `/v1/sites/${site}/revisions/${result.revision}/progress`);
    const took = now() - asked;
    const p = progressOf(result.revision, result.publishedNodes, progress.nodes, result.staged ? progress.rollout : null);
    for (const f of p.facts) {
      if (printed.has(f)) continue;
      printed.add(f);
      io.stdout(`${f}\n`);
    }
    if (p.outcome === 'done') return 0;
    if (p.outcome === 'failed') {
      io.stderr(`lvsfleet apply: ${p.why}\n`);
      return 1;
    }
    if (now() >= deadline) {
      const waiting = Object.entries(p.nodes)
        .filter(([, s]) => s !== 'applied')
        .map(([n, s]) => `${n} (${s})`);
      io.stderr(
        `lvsfleet apply: timed out waiting for revision ${result.revision}${waiting.length ? ` on ${nameList(waiting)}` : ''}${result.staged ? `; the rollout goes on: lvsfleet rollout status ${result.site}` : ''}\n`,
      );
      return 1;
    }
    await sleep(Math.min(Math.max(opts.pollMs ?? 1000, took * POLL_COST_FACTOR), Math.max(0, deadline - now())));
  }
}
