import { and, eq, gte, isNull, or } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { alerts } from '../db/schema.ts';
import type { AlertRecord } from './incidents.ts';

/** The alerts of a site open at some moment since `since` (ms): still open, or resolved after it. */
export async function readAlerts(db: Db, siteId: string, since: number): Promise<AlertRecord[]> {
  return db
    .select({
      id: alerts.id,
      type: alerts.type,
      severity: alerts.severity,
      subject: alerts.subject,
      summary: alerts.summary,
      firstSeenAt: alerts.firstSeenAt,
      raisedAt: alerts.raisedAt,
      resolvedAt: alerts.resolvedAt,
    })
    .from(alerts)
    .where(and(eq(alerts.siteId, siteId), or(isNull(alerts.resolvedAt), gte(alerts.resolvedAt, new Date(since)))));
}
