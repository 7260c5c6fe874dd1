import { count, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { isBecameMaster } from '../db/event-kinds.ts';
import { alerts, events, OUTBOX_OPEN, outbox, prunedMasterTransitions, sites } from '../db/schema.ts';
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

/**
 * Transitions to MASTER ever recorded, per site and VRRP instance (a counter's value): the events
 * stored and those retention deleted, in one statement, so a scrape never sees a batch of them in
 * both places or in neither.
 */
export function becameMasterCounts(db: Db) {
  const stored = db
    .select({ siteId: events.siteId, instance: sql<string>`coalesce(${events.data} ->> 'instance', '')`.as('instance'), n: sql<number>`count(*)`.as('n') })
    .from(events)
    .where(isBecameMaster)
    .groupBy(sql`1, 2`);
  const pruned = db
    .select({ siteId: prunedMasterTransitions.siteId, instance: prunedMasterTransitions.instance, n: sql<number>`${prunedMasterTransitions.count}` })
    .from(prunedMasterTransitions);
  const all = stored.unionAll(pruned).as('all_transitions');
  return db
    .select({ site: sites.name, instance: all.instance, n: sql<number>`sum(${all.n})`.mapWith(Number) })
    .from(all)
    .innerJoin(sites, eq(sites.id, all.siteId))
    .groupBy(sites.name, all.instance);
}
