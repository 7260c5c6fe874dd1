import { and, eq, not, or, sql, type SQL } from 'drizzle-orm';
import { CONDITION_TYPES, EVENT_TYPES, SEVERITIES, severityAtLeast, severityOf, type Severity } from '#shared/wire/events.ts';
import { inJsonList } from '../db/in-json.ts';
import { events, sites, type webhooks } from '../db/schema.ts';

type WebhookRow = typeof webhooks.$inferSelect;

/**
 * Every type whose severity `severityOf` knows for sure: the event types and their `….resolved`
 * twins. A type outside it is let through the severity filter, so a type added to
 * shared/wire/events.ts without a place here is read and judged by `wants`, never dropped.
 */
const KNOWN_TYPES: readonly string[] = [...EVENT_TYPES, ...EVENT_TYPES.map((t) => `${t}.resolved`)];

/**
 * What a webhook may want among the `events` rows joined to their `sites` row, as SQL: a
 * pre-filter that `wants` (payload.ts) still decides after, so the rows it keeps out are only rows
 * `wants` would refuse. Without it, a 10,000-node apply's `apply.succeeded` events were each read
 * whole and turned into an alert for every webhook, though most webhooks want none of them.
 */
export function walkFilter(hook: Pick<WebhookRow, 'orgId' | 'siteName' | 'eventTypes' | 'minSeverity'>): SQL {
  const types = hook.eventTypes as string[];
  return and(
    eq(sites.orgId, hook.orgId),
    hook.siteName ? eq(sites.name, hook.siteName) : undefined,
    types.length ? inJsonList(events.type, types) : undefined,
    severityFilter(hook.minSeverity),
    // A condition's type without the cloud's `key` is a director's own copy: history, not an alert.
    or(not(inJsonList(events.type, CONDITION_TYPES)), sql`jsonb_typeof(${events.data} -> 'key') = 'string'`),
  )!;
}

/**
 * An event's severity is what the cloud stamped on it (`data.severity`, when it is one of
 * SEVERITIES), else its type's. The rows kept out are those whose stamp is below `min`, or, without
 * a valid stamp, whose type is known to be below it.
 */
function severityFilter(min: Severity): SQL | undefined {
  const below = SEVERITIES.filter((s) => !severityAtLeast(s, min));
  if (!below.length) return undefined;
  const stamped = sql`${events.data} ->> 'severity'`;
  const quietTypes = KNOWN_TYPES.filter((t) => !severityAtLeast(severityOf(t), min));
  // A stamp that is not a string (`->>` gives a number's or an object's JSON text) is never one of
  // SEVERITIES, so the type decides then, as in `wants`.
  return sql`CASE WHEN (${inJsonList(stamped, SEVERITIES)}) THEN NOT (${inJsonList(stamped, below)}) ELSE NOT (${inJsonList(events.type, quietTypes)}) END`;
}
