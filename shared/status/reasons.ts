import type { Reason, ReasonCode, SiteStatus } from './model.ts';

/** ISO time without the milliseconds when there are none: "2026-11-30T02:14:00Z". */
export function iso(ms: number): string {
  const s = new Date(ms).toISOString();
  return s.endsWith('.000Z') ? `${s.slice(0, -5)}Z` : s;
}

/** A window as people say it: 60s, 2m, 1500ms. */
export function spoken(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** A reason before its `since` is settled: the text may name the time. */
export interface Draft {
  code: ReasonCode;
  subject: string;
  /** When the inputs say the condition began (ms), or null when they do not. */
  since: number | null;
  say: (since: string | null) => string;
}

/**
 * Settles reasons for one evaluation. A condition (code + subject) that the previous evaluation
 * already had keeps its `since`: inputs such as a report's time move with every report, the
 * condition does not. The same condition met twice (a group's reason repeated on its service)
 * is one object.
 */
export class ReasonBook {
  private readonly before = new Map<string, string | null>();
  private readonly made = new Map<string, Reason>();

  /** `now` bounds every `since`: an agent whose clock runs ahead cannot date a condition in the future. */
  constructor(
    previous: SiteStatus | null,
    private readonly now: number,
  ) {
    if (!previous) return;
    const keep = (rs: Reason[]) => rs.forEach((r) => this.before.set(`${r.code}|${r.subject}`, r.since));
    keep(previous.reasons);
    previous.nodes.forEach((n) => keep(n.reasons));
    previous.vrrp.forEach((g) => keep(g.reasons));
    for (const s of previous.services) {
      keep(s.reasons);
      s.realServers.forEach((r) => keep(r.reasons));
    }
  }

  settle(d: Draft): Reason {
    const key = `${d.code}|${d.subject}`;
    const done = this.made.get(key);
    if (done) return done;
    const carried = this.before.get(key);
    const since = carried !== undefined && carried !== null ? carried : d.since === null ? null : iso(Math.min(d.since, this.now));
    const r: Reason = { code: d.code, subject: d.subject, text: d.say(since), since };
    this.made.set(key, r);
    return r;
  }
}

/** Reasons in first-seen order, one per condition. */
export function unique(reasons: Reason[]): Reason[] {
  const seen = new Set<string>();
  return reasons.filter((r) => {
    const k = `${r.code}|${r.subject}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The latest `since` among reasons (the state they explain began when its last cause did). */
export function latestSince(reasons: Reason[]): number | null {
  let best: number | null = null;
  for (const r of reasons) if (r.since !== null) best = Math.max(best ?? -Infinity, Date.parse(r.since));
  return best;
}
