import type { Condition } from '#shared/status/conditions.ts';
import type { ConditionType, Severity } from '#shared/wire/events.ts';

/** An event as webhooks carry it: agent events and the cloud's own alerts. */
export interface AlertEvent {
  id: string;
  type: string;
  site: string | null;
  nodeId: string | null;
  at: string;
  summary: string;
  data: Record<string, unknown>;
}

/** A condition being watched: pending (`raisedAt` null) until it has held for the debounce, then open until it clears. */
interface WatchedCondition {
  key: string;
  type: ConditionType;
  severity: Severity;
  subject: string;
  summary: string;
  firstSeenAt: number;
  raisedAt: number | null;
}

/** One site's conditions by key. */
export type AlertState = Record<string, WatchedCondition>;

/** A raise or a resolution, for the shell to record (an `events` row, an `alerts` row). */
export interface AlertChange {
  kind: 'raised' | 'resolved';
  condition: WatchedCondition;
  event: Omit<AlertEvent, 'id'>;
}

export interface AlertOptions {
  /** A condition must hold this long before it is raised: a VRRP failover passes through no master for an advert or two. */
  debounceMs: number;
}

const DEFAULT_ALERTS: AlertOptions = { debounceMs: 5_000 };

/** `node:dr1` → `site.dr1`, the node's id in events. */
function nodeIdOf(site: string, subject: string): string | null {
  return subject.startsWith('node:') ? `${site}.${subject.slice('node:'.length)}` : null;
}

/** 3h 2m, 4m 10s, 12s. */
export function spokenDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${sec}s`;
  return `${sec}s`;
}

/**
 * The alert lifecycle of one site, a diff of the status model's conditions between evaluations
 * (docs/architecture.md, "Status and events"). Pure: (state, conditions, now) → (state, changes).
 * A new condition is watched; once it has held for the debounce it is raised (its type, its
 * severity). An open condition that is gone raises `….resolved` with how long it lasted; one
 * that clears before the debounce is forgotten without a word.
 */
export function stepAlerts(
  prev: AlertState,
  site: string,
  conditions: Condition[],
  now: number,
  opts: AlertOptions = DEFAULT_ALERTS,
): { state: AlertState; changes: AlertChange[] } {
  const state: AlertState = {};
  const changes: AlertChange[] = [];
  const at = new Date(now).toISOString();
  for (const c of conditions) {
    const was = prev[c.key];
    const w: WatchedCondition = was
      ? { ...was, summary: c.summary }
      : { key: c.key, type: c.type, severity: c.severity, subject: c.subject, summary: c.summary, firstSeenAt: now, raisedAt: null };
    if (w.raisedAt === null && now - w.firstSeenAt >= opts.debounceMs) {
      w.raisedAt = now;
      changes.push({
        kind: 'raised',
        condition: w,
        event: {
          type: c.type,
          site,
          nodeId: nodeIdOf(site, c.subject),
          at,
          summary: c.summary,
          data: { key: c.key, subject: c.subject, severity: c.severity, since: c.since, summary: c.summary, reasons: c.codes },
        },
      });
    }
    state[c.key] = w;
  }
  for (const w of Object.values(prev)) {
    if (state[w.key] || w.raisedAt === null) continue;
    // From when it was first seen: the debounce was part of it.
    const durationMs = now - w.firstSeenAt;
    const summary = `resolved after ${spokenDuration(durationMs)}: ${w.summary}`;
    changes.push({
      kind: 'resolved',
      condition: w,
      event: {
        type: `${w.type}.resolved`,
        site,
        nodeId: nodeIdOf(site, w.subject),
        at,
        summary,
        data: {
          key: w.key,
          subject: w.subject,
          severity: w.severity,
          raisedAt: new Date(w.raisedAt).toISOString(),
          durationMs,
          duration: spokenDuration(durationMs),
          summary,
        },
      },
    });
  }
  return { state, changes };
}
