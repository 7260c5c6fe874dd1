import { CONDITION_SEVERITY, type ConditionType, type Severity } from '../wire/events.ts';
import type { ReasonCode, SiteStatus } from './model.ts';

/** Which reasons are alert conditions (their severity is the event type's). Reasons not listed (stale_report, unchecked, …) show on pages only. */
const ALERTS: Partial<Record<ReasonCode, ConditionType>> = {
  unreachable: 'site.unreachable',
  split_brain: 'site.split_brain',
  no_master: 'site.no_master',
  node_offline: 'node.offline',
  stale_revision: 'node.stale_revision',
  apply_failed: 'apply.failed',
  all_realservers_down: 'service.down',
  quorum_lost: 'service.down',
  no_realservers: 'service.down',
  realserver_down: 'realserver.down',
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
    const type = ALERTS[r.code];
    if (!type || (r.code === 'unreachable' && r.subject !== 'site')) continue;
    const key = `${type}|${r.subject}`;
    const had = out.get(key);
    if (had) had.codes.push(r.code);
    else out.set(key, { key, type, severity: CONDITION_SEVERITY[type], subject: r.subject, since: r.since, summary: r.text, codes: [r.code] });
  }
  return [...out.values()];
}
