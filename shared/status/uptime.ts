import type { GroupState, SiteState } from './model.ts';

/** What one moment of a site, service or failover group counts as on an uptime bar. */
export type UptimeBucket = 'up' | 'degraded' | 'down' | 'unknown';

const BUCKET: Record<SiteState | GroupState, UptimeBucket> = {
  operational: 'up',
  ok: 'up',
  degraded_performance: 'degraded',
  partial_outage: 'down',
  major_outage: 'down',
  split_brain: 'down',
  no_master: 'down',
  unknown: 'unknown',
};

/** The bucket of a stored state; a state this version does not know (an older or newer model) is unknown, never up. */
export function bucketOf(state: string): UptimeBucket {
  return Object.hasOwn(BUCKET, state) ? BUCKET[state as SiteState | GroupState] : 'unknown';
}

/** One stored span of one state: observed from `from` until `confirmed` (ms). */
export interface StateSpan {
  state: string;
  from: number;
  confirmed: number;
}

/**
 * One UTC day of the bar. The fractions of the part of the day that is in the past add up to 1:
 * `unknown` holds both the model's unknown state and gaps (time between two spans, when the cloud
 * did not evaluate), so a day the cloud could not see is never shown up. `noData` marks a day
 * before the first span (no history yet), which has no fractions at all.
 */
interface UptimeDay {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  noData: boolean;
  up: number;
  degraded: number;
  down: number;
  unknown: number;
  /** The worst bucket seen that day with a share of at least one second (for the bar's colour). */
  worst: UptimeBucket | null;
}

export interface UptimeBar {
  days: UptimeDay[];
  /** Serving time (up or degraded) over all time since history began in the window: down, unknown and gaps count against it; null without history. */
  uptime: number | null;
}

const DAY_MS = 86_400_000;
const ORDER: UptimeBucket[] = ['up', 'unknown', 'degraded', 'down'];

/**
 * The uptime bar of one subject over the `days` UTC days ending with today (`now`'s day, counted
 * up to `now`). Spans may be given in any order; an overlap (a clock step) counts each instant
 * once, for the span that began later. The open span is extended to `now` only when it was
 * confirmed within `liveWithinMs` (the cloud is evaluating right now); otherwise the time after its
 * confirmation is a gap.
 */
export function uptimeBar(spans: StateSpan[], opts: { now: number; days?: number; liveWithinMs?: number }): UptimeBar {
  const days = opts.days ?? 90;
  const now = opts.now;
  const todayStart = Math.floor(now / DAY_MS) * DAY_MS;
  const windowStart = todayStart - (days - 1) * DAY_MS;
  const sorted = [...spans].sort((a, b) => a.from - b.from);
  // Clip each span to the next one's start, and the last one to now when it is live.
  const clipped: { bucket: UptimeBucket; from: number; to: number }[] = [];
  sorted.forEach((s, i) => {
    const next = sorted[i + 1]?.from ?? Infinity;
    const live = i === sorted.length - 1 && now - s.confirmed <= (opts.liveWithinMs ?? 0);
    const to = Math.min(live ? now : s.confirmed, next, now);
    if (to > s.from) clipped.push({ bucket: bucketOf(s.state), from: s.from, to });
  });
  const firstSeen = sorted.length ? sorted[0].from : Infinity;
  const out: UptimeDay[] = [];
  let upTotal = 0;
  let seenTotal = 0;
  for (let d = 0; d < days; d++) {
    const start = windowStart + d * DAY_MS;
    const end = Math.min(start + DAY_MS, now);
    const label = new Date(start).toISOString().slice(0, 10);
    const from = Math.max(start, firstSeen);
    if (from >= end) {
      out.push({ day: label, noData: true, up: 0, degraded: 0, down: 0, unknown: 0, worst: null });
      continue;
    }
    const ms: Record<UptimeBucket, number> = { up: 0, degraded: 0, down: 0, unknown: 0 };
    let covered = 0;
    for (const c of clipped) {
      const overlap = Math.min(c.to, end) - Math.max(c.from, from);
      if (overlap <= 0) continue;
      ms[c.bucket] += overlap;
      covered += overlap;
    }
    const total = end - from;
    ms.unknown += total - covered;
    const worst = ORDER.reduce<UptimeBucket | null>((w, b) => (ms[b] >= 1000 ? b : w), null);
    out.push({ day: label, noData: false, up: ms.up / total, degraded: ms.degraded / total, down: ms.down / total, unknown: ms.unknown / total, worst });
    upTotal += ms.up + ms.degraded;
    seenTotal += total;
  }
  return { days: out, uptime: seenTotal > 0 ? upTotal / seenTotal : null };
}
