import { CONDITION_SEVERITY, SEVERITIES, severityAtLeast, severityOf, type Severity } from '#shared/wire/events.ts';
import type { events, webhooks } from '../db/schema.ts';
import type { AlertEvent } from './evaluate.ts';
import { toSlack } from './slack.ts';
import { summarize } from './summarize.ts';

type EventRow = typeof events.$inferSelect;
type WebhookRow = typeof webhooks.$inferSelect;

/** An event row as webhooks carry it. */
export function alertOf(e: EventRow, siteName: string | null): AlertEvent {
  const data = e.data as Record<string, unknown>;
  return { id: String(e.id), type: e.type, site: siteName, nodeId: e.nodeId, at: e.at.toISOString(), summary: summarize(e.type, data, e.nodeId), data };
}

/** The event's severity: what the cloud stamped on it, else its type's. */
function eventSeverity(type: string, data: Record<string, unknown>): Severity {
  const s = data.severity;
  return typeof s === 'string' && (SEVERITIES as readonly string[]).includes(s) ? (s as Severity) : severityOf(type);
}

/** A delivery's claim order (`webhook_deliveries.priority`): 0 critical, 1 warning, 2 info. */
export function deliveryPriority(severity: Severity): number {
  return SEVERITIES.length - 1 - SEVERITIES.indexOf(severity);
}

/** The claim order of an event's delivery, from its severity. */
export function alertPriority(alert: Pick<AlertEvent, 'type' | 'data'>): number {
  return deliveryPriority(eventSeverity(alert.type, alert.data));
}

/**
 * Whether a subscription gets an event. An event of a condition's type without the cloud's
 * `key` (one director's own `realserver.down`, an agent's `apply.failed`, ingest's presence
 * `node.offline`) is history: the condition's debounced raise and its `….resolved` are what is
 * delivered, once per site rather than once per director.
 */
export function wants(hook: Pick<WebhookRow, 'eventTypes' | 'siteName' | 'minSeverity'>, e: Pick<AlertEvent, 'type' | 'site' | 'data'>): boolean {
  if (e.type in CONDITION_SEVERITY && typeof e.data.key !== 'string') return false;
  const types = hook.eventTypes as string[];
  if (types.length && !types.includes(e.type)) return false;
  if (hook.siteName && hook.siteName !== e.site) return false;
  return severityAtLeast(eventSeverity(e.type, e.data), hook.minSeverity);
}

/** The body sent: Standard Webhooks' recommended envelope `{type, timestamp, data}`, or Slack's `{text, blocks}` with a link to the site's status page. */
export function payloadFor(hook: Pick<WebhookRow, 'format'>, alert: AlertEvent, baseUrl?: string): unknown {
  if (hook.format === 'slack') return toSlack(alert, baseUrl && alert.site ? `${baseUrl}/status/${encodeURIComponent(alert.site)}` : undefined);
  return { type: alert.type, timestamp: alert.at, data: { ...alert, severity: eventSeverity(alert.type, alert.data) } };
}

export function newDeliveryId(): string {
  return `msg_${crypto.randomUUID().replaceAll('-', '')}`;
}
