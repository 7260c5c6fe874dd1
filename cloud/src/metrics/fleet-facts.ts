import { count, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { isBecameMaster } from '../db/event-kinds.ts';
import { alerts, events, OUTBOX_OPEN, outbox, sites } from '../db/schema.ts';
import type { StatusBook } from '../status/book.ts';
import type { FleetFacts } from './fleet-model.ts';

/**
 * What one scrape of the fleet metrics reads: the status book's evaluation of every site, open
 * alerts, transitions to MASTER in the event history and the outbox backlog. Only the database
 * and the book, so any runtime that has both can serve the fleet metrics.
 */
export async function readFleetFacts(db: Db, book: StatusBook, now: number): Promise<FleetFacts> {
  const views = await book.all(now);
  const openAlerts = await db
    .select({ site: sites.name, type: alerts.type, severity: alerts.severity, n: count() })
    .from(alerts)
    .innerJoin(sites, eq(sites.id, alerts.siteId))
    .where(isNull(alerts.resolvedAt))
    .groupBy(sites.name, alerts.type, alerts.severity);
  const becameMaster = await becameMasterCounts(db);
  const [pending] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(outbox)
    .where(inArray(outbox.status, OUTBOX_OPEN));
  return { sites: views.map((v) => v.status), openAlerts, becameMaster, outboxPending: pending?.n ?? 0 };
}

/** Transitions to MASTER ever recorded, per site and VRRP instance (a counter's value). */
export function becameMasterCounts(db: Db) {
  const instance = sql<string>`${events.data}->>'instance'`;
  return db
    .select({ site: sites.name, instance, n: count() })
    .from(events)
    .innerJoin(sites, eq(sites.id, events.siteId))
    .where(isBecameMaster)
    .groupBy(sites.name, instance);
}
