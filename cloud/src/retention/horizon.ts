/**
 * How far back retention may delete (the pure decision of cloud/src/retention/prune.ts). Events
 * are the fleet's history: each apply of a 10,000-node site stores 10,000 of them, and without a
 * bound the table, its indexes and every walk over it grow for ever.
 */

import { INCIDENT_DAYS } from '../status/incidents.ts';

const DAY_MS = 86_400_000;

/** The default of `serve --event-retention-days` and of the Workers' EVENT_RETENTION_DAYS. */
export const DEFAULT_EVENT_RETENTION_DAYS = 30;

/** A century: beyond it a horizon's date would leave JavaScript's range long before it mattered. */
const MAX_EVENT_RETENTION_DAYS = 36_500;

/** What still needs old events, read before each round. */
export interface RetentionFacts {
  now: number;
  /** Days of events kept; 0 keeps every event. */
  days: number;
  /**
   * When the oldest rollout still running (or pending, or paused) started: its tick counts the
   * site's `apply.failed` events since then to decide whether to halt, so deleting any of them
   * could let a failing rollout go on.
   */
  oldestActiveRollout: number | null;
  /**
   * The lowest cursor of an enabled webhook (`webhooks.last_event_id`): events after it have not
   * been queued for that webhook yet, and deleting them would lose their deliveries.
   */
  webhookCursor: number | null;
}

/** Events that may go: received before `before` and, when set, with an id no greater than `throughId`. */
export interface EventHorizon {
  before: Date;
  throughId: number | null;
}

/** The horizon for events, or null when nothing may go (retention off). */
export function eventHorizon(f: RetentionFacts): EventHorizon | null {
  if (f.days <= 0) return null;
  const before = Math.min(f.now - f.days * DAY_MS, f.oldestActiveRollout ?? Infinity);
  return { before: new Date(before), throughId: f.webhookCursor };
}

/**
 * Finished webhook deliveries (delivered, or given up) older than this may go: they are the
 * deliveries list's history, kept as long as the events they carried.
 */
export function deliveryHorizon(f: Pick<RetentionFacts, 'now' | 'days'>): Date | null {
  return f.days > 0 ? new Date(f.now - f.days * DAY_MS) : null;
}

/**
 * Resolved alerts older than this may go: kept as long as the events, and never less than the
 * incident timeline the status pages show (an operator who keeps a week of events still gets a
 * month of incidents). An open alert never goes, however old.
 */
export function alertHorizon(f: Pick<RetentionFacts, 'now' | 'days'>): Date | null {
  return f.days > 0 ? new Date(f.now - Math.max(f.days, INCIDENT_DAYS) * DAY_MS) : null;
}

/**
 * The retention setting as an operator writes it: whole days (`30`), or `0` to keep every event;
 * unset, the default. Whole days, so the dashboard's last 24 h of events are always there.
 */
export function parseRetentionDays(text: string | undefined, name: string): number {
  if (text === undefined) return DEFAULT_EVENT_RETENTION_DAYS;
  const n = /^\d{1,6}$/.test(text) ? Number(text) : NaN;
  if (!(n <= MAX_EVENT_RETENTION_DAYS))
    throw new RangeError(`${name} must be a whole number of days up to ${MAX_EVENT_RETENTION_DAYS}, or 0 to keep every event; not "${text}"`);
  return n;
}
