import { asc, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { inJsonList } from '../db/in-json.ts';
import { nodeStatus } from '../db/schema.ts';
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
      eventRows.push({ site_id: r.siteId, node_id: nodeId, type: event.type, data: event.data, at: event.at, dedupe_key: eventKey(r.payload) });
    } else {
      if (statuses.has(r.msg.nodeId)) throw new Error(`two status reports of ${r.msg.nodeId} in one batch`);
      statuses.set(r.msg.nodeId, r as Report & { msg: { kind: 'status' } });
    }
  }
  // In the unique index's order: two replicas inserting the same events wait on each other's
  // keys in one order, so they queue instead of deadlocking.
  if (eventRows.length)
    await db.execute(sql`
      INSERT INTO events (site_id, node_id, type, data, at, dedupe_key)
      SELECT x.site_id, x.node_id, x.type, x.data, x.at, x.dedupe_key
      FROM jsonb_to_recordset(${JSON.stringify(eventRows)}::jsonb) AS x(site_id text, node_id text, type text, data jsonb, at timestamptz, dedupe_key text)
      ORDER BY x.node_id, x.dedupe_key
      ON CONFLICT DO NOTHING`);
  if (!statuses.size) return;
  // Sorted: two replicas storing overlapping batches take the rows' locks in one order, so they
  // queue instead of deadlocking. Every statement takes the batch as one JSON parameter: 500
  // reports as five bound values each cost drizzle and the driver more than the database's work.
  const sorted = [...statuses.keys()].sort();
  const ids = JSON.stringify(sorted);
  await db.transaction(async (tx) => {
    // The rows exist before they are read, so two replicas taking a node's first report queue on its lock.
    await tx.execute(sql`
      INSERT INTO node_status (node_id) SELECT x FROM jsonb_array_elements_text(${ids}::jsonb) AS x ORDER BY x
      ON CONFLICT DO NOTHING`);
    const prevs = await tx.select().from(nodeStatus).where(inJsonList(nodeStatus.nodeId, sorted)).orderBy(asc(nodeStatus.nodeId)).for('update');
    const writes = [];
    const presence = [];
    for (const prev of prevs) {
      const r = statuses.get(prev.nodeId)!;
      const w = statusWrite(prev as StoredStatusRow, r.msg.status, r.streamAt, now);
      if (!w) continue;
      const { online, appliedRevision, status, updatedAt } = w.row;
      writes.push({ node_id: prev.nodeId, online, applied_revision: appliedRevision, status, updated_at: updatedAt.toISOString() });
      if (w.presence) presence.push({ site_id: r.siteId, node_id: prev.nodeId, type: w.presence, data: {}, at: now.toISOString() });
    }
    if (writes.length)
      await tx.execute(sql`
        INSERT INTO node_status (node_id, online, applied_revision, status, updated_at)
        SELECT x.node_id, x.online, x.applied_revision, x.status, x.updated_at
        FROM jsonb_to_recordset(${JSON.stringify(writes)}::jsonb)
          AS x(node_id text, online boolean, applied_revision integer, status jsonb, updated_at timestamptz)
        ON CONFLICT (node_id) DO UPDATE SET online = excluded.online, applied_revision = excluded.applied_revision,
          status = excluded.status, updated_at = excluded.updated_at`);
    if (presence.length)
      await tx.execute(sql`
        INSERT INTO events (site_id, node_id, type, data, at)
        SELECT x.site_id, x.node_id, x.type, x.data, x.at
        FROM jsonb_to_recordset(${JSON.stringify(presence)}::jsonb) AS x(site_id text, node_id text, type text, data jsonb, at timestamptz)`);
  });
}

/** Stores one accepted report (the HTTPS path, and a batch of one). */
export function recordReport(db: Db, siteId: string, msg: Report['msg'], now: Date, payload: Uint8Array, streamAt?: string): Promise<void> {
  return recordReports(db, [{ siteId, msg, payload, streamAt }], now);
}
