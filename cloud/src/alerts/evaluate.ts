import type { SiteStatusView } from '../pages/status-view.ts';

/** An event as webhooks carry it: agent events and the cloud's own cross-node findings. */
export interface AlertEvent {
  id: string;
  type: string;
  site: string | null;
  nodeId: string | null;
  at: string;
  summary: string;
  data: Record<string, unknown>;
}

/** Conditions seen so far, by key (`split_brain:VI_1`, `stale:rs1`), with when they began. */
export type AlertState = Record<string, { since: number; raised: boolean }>;

export interface EvaluateOptions {
  /** A condition must hold this long before it is raised (debounces VRRP's own transitions). */
  splitBrainAfterMs: number;
  noMasterAfterMs: number;
  staleAfterMs: number;
}

export const DEFAULT_EVALUATE: EvaluateOptions = { splitBrainAfterMs: 5_000, noMasterAfterMs: 5_000, staleAfterMs: 120_000 };

/**
 * Cross-node facts only the cloud can see (docs/architecture.md, "Status and events"): two directors both MASTER for one
 * VRID (`site.split_brain`), none MASTER (`site.no_master`), a node stuck on an old revision
 * (`node.stale_revision`). Pure: (state, view, now) → (state, events). A condition is raised once
 * when it has lasted long enough and is forgotten when it clears, so it can be raised again.
 */
export function evaluateSite(
  prev: AlertState,
  view: SiteStatusView,
  now: number,
  opts: EvaluateOptions = DEFAULT_EVALUATE,
): { state: AlertState; events: AlertEvent[] } {
  const conditions = new Map<string, { after: number; event: Omit<AlertEvent, 'id' | 'at'> }>();
  for (const v of view.vrrp) {
    if (v.problem === 'split_brain')
      conditions.set(`split_brain:${v.instance}`, {
        after: opts.splitBrainAfterMs,
        event: {
          type: 'site.split_brain',
          site: view.site,
          nodeId: null,
          summary: `${v.masters.join(' and ')} are all MASTER for ${v.instance} (VRID ${v.vrid})`,
          data: { instance: v.instance, vrid: v.vrid, nodes: v.masters },
        },
      });
    if (v.problem === 'no_master')
      conditions.set(`no_master:${v.instance}`, {
        after: opts.noMasterAfterMs,
        event: {
          type: 'site.no_master',
          site: view.site,
          nodeId: null,
          summary: `no director is MASTER for ${v.instance} (VRID ${v.vrid})`,
          data: { instance: v.instance, vrid: v.vrid, states: v.states },
        },
      });
  }
  for (const n of view.nodes) {
    if (n.stale)
      conditions.set(`stale:${n.name}`, {
        after: opts.staleAfterMs,
        event: {
          type: 'node.stale_revision',
          site: view.site,
          nodeId: `${view.site}.${n.name}`,
          summary: `${n.name} runs revision ${n.appliedRevision ?? 'none'}, desired ${n.desiredRevision}`,
          data: { node: n.name, applied: n.appliedRevision, desired: n.desiredRevision },
        },
      });
  }
  const state: AlertState = {};
  const events: AlertEvent[] = [];
  for (const [key, c] of conditions) {
    const was = prev[key];
    const since = was?.since ?? now;
    const due = !was?.raised && now - since >= c.after;
    state[key] = { since, raised: (was?.raised ?? false) || due };
    if (due) events.push({ ...c.event, id: `${view.site}:${key}:${since}`, at: new Date(now).toISOString() });
  }
  return { state, events };
}
