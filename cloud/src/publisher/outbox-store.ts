import { and, asc, eq, inArray, isNotNull, isNull, lte, max, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { outbox } from '../db/schema.ts';

/** The outbox queries the publisher needs (same SQL on PGlite and PostgreSQL). */
export type OutboxRow = typeof outbox.$inferSelect;

/** Unpublished rows of every node that has at least one row due now, in (node, revision, id) order. */
export async function pendingForDueNodes(db: Db, now: Date, limit: number): Promise<OutboxRow[]> {
  const dueNodes = db
    .selectDistinct({ n: outbox.nodeId })
    .from(outbox)
    .where(and(isNull(outbox.publishedAt), lte(outbox.nextAttemptAt, now)));
  return db
    .select()
    .from(outbox)
    .where(and(isNull(outbox.publishedAt), inArray(outbox.nodeId, dueNodes)))
    .orderBy(asc(outbox.nodeId), asc(outbox.revision), asc(outbox.id))
    .limit(limit);
}

/** Newest revision actually published (not skipped) for each of `nodeIds`. */
export async function lastPublished(db: Db, nodeIds: string[]): Promise<Map<string, number>> {
  if (!nodeIds.length) return new Map();
  const rows = await db
    .select({ nodeId: outbox.nodeId, rev: max(outbox.revision) })
    .from(outbox)
    .where(and(isNotNull(outbox.publishedAt), isNull(outbox.lastError), inArray(outbox.nodeId, nodeIds)))
    .groupBy(outbox.nodeId);
  return new Map(rows.map((r) => [r.nodeId, r.rev ?? 0]));
}

/** For every node: its newest published row, unless a newer row still waits (that one will go out). */
export async function latestPublishedRows(db: Db): Promise<OutboxRow[]> {
  const rows = await db
    .selectDistinctOn([outbox.nodeId])
    .from(outbox)
    .where(and(isNotNull(outbox.publishedAt), isNull(outbox.lastError)))
    .orderBy(asc(outbox.nodeId), sql`${outbox.revision} desc`, sql`${outbox.id} desc`);
  const waiting = await db.selectDistinct({ n: outbox.nodeId }).from(outbox).where(isNull(outbox.publishedAt));
  const skip = new Set(waiting.map((w) => w.n));
  return rows.filter((r) => !skip.has(r.nodeId));
}

export async function markPublished(db: Db, ids: number[], at: Date): Promise<void> {
  if (!ids.length) return;
  await db
    .update(outbox)
    .set({ publishedAt: at, lastError: null, attempts: sql`${outbox.attempts} + 1` })
    .where(and(inArray(outbox.id, ids), isNull(outbox.publishedAt)));
}

export async function markSkipped(db: Db, id: number, reason: string, at: Date): Promise<void> {
  await db
    .update(outbox)
    .set({ publishedAt: at, lastError: reason })
    .where(and(eq(outbox.id, id), isNull(outbox.publishedAt)));
}

export async function markFailed(db: Db, id: number, attempts: number, nextAttemptAt: Date, error: string): Promise<void> {
  await db
    .update(outbox)
    .set({ attempts, nextAttemptAt, lastError: error.slice(0, 500) })
    .where(eq(outbox.id, id));
}
