import type { ReasonCode, SiteStatus } from './model.ts';

type Severity = 'critical' | 'warning' | 'info';

/** The event types the cloud raises from the model (each with a `.resolved` twin when the condition clears). */
type ConditionType =
  'site.unreachable' | 'site.split_brain' | 'site.no_master' | 'node.offline' | 'node.stale_revision' | 'apply.failed' | 'service.down' | 'realserver.down';

/** Which reasons are alert conditions, and how loud. Reasons not listed (stale_report, unchecked, …) show on pages only. */
const ALERTS: Partial<Record<ReasonCode, { type: ConditionType; severity: Severity }>> = {
  unreachable: { type: 'site.unreachable', severity: 'critical' },
  split_brain: { type: 'site.split_brain', severity: 'critical' },
  no_master: { type: 'site.no_master', severity: 'critical' },
  node_offline: { type: 'node.offline', severity: 'warning' },
  stale_revision: { type: 'node.stale_revision', severity: 'warning' },
  apply_failed: { type: 'apply.failed', severity: 'warning' },
  all_realservers_down: { type: 'service.down', severity: 'critical' },
  quorum_lost: { type: 'service.down', severity: 'critical' },
  no_realservers: { type: 'service.down', severity: 'critical' },
  realserver_down: { type: 'realserver.down', severity: 'warning' },
};

export interface Condition {
  /** Stable across evaluations while the condition holds: `${type}|${subject}`. */
  key: string;
  type: ConditionType;
  severity: Severity;
  subject: string;
  since: string | null;
  summary: string;
  /** The reason codes behind it (service.down may have several). */
  codes: ReasonCode[];
}

/**
 * The alert conditions a site status holds. An alerting loop diffs two consecutive lists: a key
 * that appears raises `type`, one that disappears raises `type.resolved`. `site.unreachable` is
 * only the site's own reason: a group or service that cannot be seen is part of it, not a second alert.
 */
export function conditionsOf(status: SiteStatus): Condition[] {
  const out = new Map<string, Condition>();
  for (const r of status.reasons) {
    const a = ALERTS[r.code];
    if (!a || (r.code === 'unreachable' && r.subject !== 'site')) continue;
    const key = `${a.type}|${r.subject}`;
    const had = out.get(key);
    if (had) had.codes.push(r.code);
    else out.set(key, { key, type: a.type, severity: a.severity, subject: r.subject, since: r.since, summary: r.text, codes: [r.code] });
  }
  return [...out.values()];
}
