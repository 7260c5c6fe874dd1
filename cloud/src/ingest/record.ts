import { asc, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { events, nodeStatus } from '../db/schema.ts';
import { eventKey, statusWrite, type Incoming, type StoredStatusRow } from './decide.ts';

/** One accepted message of a known node, as ingest and the HTTPS report path hand it over. */
export interface Report {
  siteId: string;
  msg: Extract<Incoming, { kind: 'status' | 'event' }>;
  /** The bytes the node sent (an event's key is their digest). */
  payload: Uint8Array;
  /**
   * The `at` of the report before this one in the caller's own message order (where a last will,
   * which has no time, falls); undefined when the caller has none.
   */
  streamAt?: string;
}

/**
 * Stores accepted reports of known nodes (docs/architecture.md, "Status and events"), at most one
 * per node (the caller orders a node's messages across calls): events go to `events` once each
 * (keyed by a digest of the bytes the node sent, so every replica's ingest and the HTTPS path store
 * it once); a status replaces the node's `node_status` row as `statusWrite` decides, and adds
 * `node.online` / `node.offline` when presence changed. A batch is a few statements whatever its
 * size: a large fleet's heartbeats (10,000 nodes every 15 s) cost a round trip per batch, not
 * several per report.
 */
export async function recordReports(db: Db, reports: readonly Report[], now: Date): Promise<void> {
  const eventRows = [];
  const statuses = new Map<string, Report & { msg: { kind: 'status' } }>();
  for (const r of reports) {
    if (r.msg.kind === 'event') {
      const { nodeId, event } = r.msg;
      eventRows.push({ siteId: r.siteId, nodeId, type: event.type, data: event.data, at: new Date(event.at), dedupeKey: eventKey(r.payload) });
    } else {
      if (statuses.has(r.msg.nodeId)) throw new Error(`two status reports of ${r.msg.nodeId} in one batch`);
      statuses.set(r.msg.nodeId, r as Report & { msg: { kind: 'status' } });
    }
  }
  if (eventRows.length) await db.insert(events).values(eventRows).onConflictDoNothing();
  if (!statuses.size) return;
  // Sorted: two replicas storing overlapping batches take the rows' locks in one order, so they
  // queue instead of deadlocking.
  const ids = [...statuses.keys()].sort();
  await db.transaction(async (tx) => {
    // The rows exist before they are read, so two replicas taking a node's first report queue on its lock.
    await tx
      .insert(nodeStatus)
      .values(ids.map((nodeId) => ({ nodeId })))
      .onConflictDoNothing();
    const prevs = await tx.select().from(nodeStatus).where(inArray(nodeStatus.nodeId, ids)).orderBy(asc(nodeStatus.nodeId)).for('update');
    const writes = [];
    const presence = [];
    for (const prev of prevs) {
      const r = statuses.get(prev.nodeId)!;
      const w = statusWrite(prev as StoredStatusRow, r.msg.status, r.streamAt, now);
      if (!w) continue;
      writes.push({ nodeId: prev.nodeId, ...w.row });
      if (w.presence) presence.push({ siteId: r.siteId, nodeId: prev.nodeId, type: w.presence, data: {}, at: now });
    }
    if (writes.length)
      await tx
        .insert(nodeStatus)
        .values(writes)
        .onConflictDoUpdate({
          target: nodeStatus.nodeId,
          set: {
            online: sql`excluded.online`,
            appliedRevision: sql`excluded.applied_revision`,
            status: sql`excluded.status`,
            updatedAt: sql`excluded.updated_at`,
          },
        });
    if (presence.length) await tx.insert(events).values(presence);
  });
}

/** Stores one accepted report (the HTTPS path, and a batch of one). */
export function recordReport(db: Db, siteId: string, msg: Report['msg'], now: Date, payload: Uint8Array, streamAt?: string): Promise<void> {
  return recordReports(db, [{ siteId, msg, payload, streamAt }], now);
}
