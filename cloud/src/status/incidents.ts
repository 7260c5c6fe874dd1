import type { Severity } from '#shared/wire/events.ts';

/** An alert as stored (the `alerts` table): one raise of a condition, open while `resolvedAt` is null. */
export interface AlertRecord {
  id: number;
  type: string;
  severity: Severity;
  subject: string;
  summary: string;
  firstSeenAt: Date;
  raisedAt: Date;
  resolvedAt: Date | null;
}

export interface Incident {
  id: number;
  type: string;
  severity: Severity;
  subject: string;
  summary: string;
  /** When the condition began (before the alert's debounce). */
  began: string;
  raised: string;
  resolved: string | null;
  /** From `began` to `resolved`, or to now while open. */
  durationMs: number;
  open: boolean;
}

const DAY_MS = 86_400_000;

/** How far back a site's incident timeline goes (the status pages'); resolved alerts are kept at least this long. */
export const INCIDENT_DAYS = 30;

/**
 * The incident timeline of a site: every alert open at some moment of the last `days` days,
 * newest first (by when its condition began), with how long it lasted or has lasted so far.
 */
export function incidentTimeline(alerts: AlertRecord[], now: number, days = INCIDENT_DAYS): Incident[] {
  const since = now - days * DAY_MS;
  return alerts
    .filter((a) => a.resolvedAt === null || a.resolvedAt.getTime() >= since)
    .map((a): Incident => {
      const began = Math.min(a.firstSeenAt.getTime(), a.raisedAt.getTime());
      const end = a.resolvedAt ? a.resolvedAt.getTime() : now;
      return {
        id: a.id,
        type: a.type,
        severity: a.severity,
        subject: a.subject,
        summary: a.summary,
        began: new Date(began).toISOString(),
        raised: a.raisedAt.toISOString(),
        resolved: a.resolvedAt ? a.resolvedAt.toISOString() : null,
        durationMs: Math.max(0, end - began),
        open: a.resolvedAt === null,
      };
    })
    .sort((x, y) => Date.parse(y.began) - Date.parse(x.began) || y.id - x.id);
}

/** A duration as people read it on a timeline: `45s`, `12m`, `3h 5m`, `2d 4h`. */
export function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}
