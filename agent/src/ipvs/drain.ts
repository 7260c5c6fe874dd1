import type { IpvsDest, IpvsTable } from '#shared/ipvs/model.ts';
import { destKey, realServerKey, serviceKey } from '#shared/ipvs/model.ts';

/** When each draining destination (realServerKey(serviceKey, dest)) started draining, in monotonic ms. */
export type DrainState = ReadonlyMap<string, number>;

/**
 * Graceful removal of a real server taken out of the config: it stays at weight 0 (no new
 * connections) until its active connections reach 0 or `timeoutMs` passes, then the planner
 * deletes it. Servers removed by a failed health check are not drained (keepalived removes them
 * at once). Pure: returns the desired table with draining servers kept, and the new drain state.
 */
export function withDraining(
  desired: IpvsTable,
  actual: IpvsTable,
  configured: ReadonlySet<string>,
  state: DrainState,
  activeConns: ReadonlyMap<string, number>,
  now: number,
  timeoutMs: number,
): { desired: IpvsTable; state: Map<string, number>; draining: string[] } {
  const next = new Map<string, number>();
  const actualByKey = new Map(actual.map((s) => [serviceKey(s), s]));
  // Copied only where a draining server is added: `desired` is never changed, and cloning the
  // whole table (1,000 services) cost more than planning it.
  const out = desired.map((want) => {
    const have = actualByKey.get(serviceKey(want));
    if (!have) return want;
    const wanted = new Set(want.dests.map(destKey));
    const kept: IpvsDest[] = [];
    for (const d of have.dests) {
      const k = realServerKey(serviceKey(want), d);
      if (wanted.has(destKey(d)) || configured.has(k)) continue;
      const started = state.get(k) ?? now;
      const conns = activeConns.get(k) ?? 0;
      if (conns > 0 && now - started < timeoutMs) {
        next.set(k, started);
        kept.push({ ...d, weight: 0 });
      }
    }
    return kept.length ? { ...want, dests: [...want.dests, ...kept] } : want;
  });
  return { desired: out, state: next, draining: [...next.keys()] };
}
