import type { SiteStatus } from '#shared/status/model.ts';

/** The parts of a site that have a history, by the model's subject names: `site`, `service:NAME`, `vrrp:INSTANCE`. */
export function historySubjects(status: SiteStatus): Map<string, string> {
  const out = new Map<string, string>([['site', status.state]]);
  for (const s of status.services) out.set(`service:${s.name}`, s.state);
  for (const g of status.vrrp) out.set(`vrrp:${g.instance}`, g.state);
  return out;
}

/** The span a subject is in, as the history shell keeps it: `id` of its row, `flushed` when `confirmed_at` was last written. */
export interface OpenSpan {
  id: number;
  state: string;
  from: number;
  confirmed: number;
  flushed: number;
}

export interface HistoryPlan {
  /** Rows whose `confirmed_at` is written (a span that ends, or one confirmed again); `at` is the new value. */
  confirm: { subject: string; id: number; at: number }[];
  /** New spans, from `from` (= now). */
  start: { subject: string; state: string; from: number }[];
  /** Subjects that no longer exist (a service removed): their span ends and is forgotten. */
  forget: string[];
}

export interface HistoryOptions {
  /** A span not confirmed for longer than this ends at its last confirmation, and the time after it is a gap. */
  gapAfterMs: number;
  /** How often an unchanged span's `confirmed_at` is written. */
  flushEveryMs: number;
}

export const HISTORY_DEFAULTS: HistoryOptions = { gapAfterMs: 150_000, flushEveryMs: 60_000 };

/**
 * What one evaluation changes in the history (pure). A state that changes ends the open span now
 * and starts another; an unchanged state moves the span's confirmation forward, written at most
 * every `flushEveryMs`. When the last confirmation is older than `gapAfterMs` (the cloud was not
 * evaluating: stopped, or nobody asked), the old span keeps its last confirmation and a new one
 * starts, so the time between is a gap, which the uptime bar counts as unknown.
 */
export function planHistory(
  open: ReadonlyMap<string, OpenSpan>,
  current: ReadonlyMap<string, string>,
  now: number,
  opts: HistoryOptions = HISTORY_DEFAULTS,
): HistoryPlan {
  const plan: HistoryPlan = { confirm: [], start: [], forget: [] };
  for (const [subject, state] of current) {
    const span = open.get(subject);
    if (!span) {
      plan.start.push({ subject, state, from: now });
      continue;
    }
    const gap = now - span.confirmed > opts.gapAfterMs;
    if (gap) {
      if (span.confirmed > span.flushed) plan.confirm.push({ subject, id: span.id, at: span.confirmed });
      plan.start.push({ subject, state, from: now });
    } else if (span.state !== state) {
      plan.confirm.push({ subject, id: span.id, at: now });
      plan.start.push({ subject, state, from: now });
    } else if (now - span.flushed >= opts.flushEveryMs) {
      plan.confirm.push({ subject, id: span.id, at: now });
    }
  }
  for (const [subject, span] of open) {
    if (current.has(subject)) continue;
    const gap = now - span.confirmed > opts.gapAfterMs;
    const at = gap ? span.confirmed : now;
    if (at > span.flushed) plan.confirm.push({ subject, id: span.id, at });
    plan.forget.push(subject);
  }
  return plan;
}
