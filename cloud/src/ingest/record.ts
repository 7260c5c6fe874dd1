import { isDeepStrictEqual } from 'node:util';
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { events, nodeStatus } from '../db/schema.ts';
import { eventKey, isStaleReport, mergeStatus, type Incoming } from './decide.ts';

/**
 * Stores one accepted report of a known node (docs/architecture.md, "Status and events"): an
 * event goes to `events` once (keyed by a digest of the bytes the node sent, so every replica's
 * ingest and the HTTPS path store it once); a status replaces the node's `node_status` row (merged
 * with the last will by `mergeStatus`) unless another replica already stored it or a newer one,
 * and adds `node.online` / `node.offline` when presence changed. The same for a report that came
 * over MQTT (ingest.ts) and one POSTed to the API (routes/agent-report.ts).
 *
 * `streamAt` is the `at` of the report before this one in the caller's own message order (where a
 * last will, which has no time, falls); undefined when the caller has none.
 */
export async function recordReport(
  db: Db,
  siteId: string,
  msg: Extract<Incoming, { kind: 'status' | 'event' }>,
  now: Date,
  payload: Uint8Array,
  streamAt?: string,
): Promise<void> {
  if (msg.kind === 'event') {
    await db
      .insert(events)
      .values({ siteId, nodeId: msg.nodeId, type: msg.event.type, data: msg.event.data, at: new Date(msg.event.at), dedupeKey: eventKey(payload) })
      .onConflictDoNothing();
    return;
  }
  await db.transaction(async (tx) => {
    // The row exists before it is read, so two replicas taking a node's first report queue on its lock.
    await tx.insert(nodeStatus).values({ nodeId: msg.nodeId }).onConflictDoNothing();
    const [prev] = await tx.select().from(nodeStatus).where(eq(nodeStatus.nodeId, msg.nodeId)).for('update');
    const stored = prev && { at: (prev.status as { at?: string }).at, online: prev.online, storedAt: prev.updatedAt.getTime() };
    if (isStaleReport(stored, msg.status, streamAt, now.getTime())) return;
    const next = mergeStatus(
      prev ? { online: prev.online, appliedRevision: prev.appliedRevision, status: prev.status as Record<string, unknown> } : undefined,
      msg.status,
    );
    // A last will for a node stored offline already (the retained will a replica gets when it
    // subscribes) says nothing new: writing it would move "offline since" to this replica's start.
    if (prev && !prev.online && !next.online && isDeepStrictEqual(prev.status, next.status)) return;
    const row = { online: next.online, appliedRevision: next.appliedRevision, status: next.status, updatedAt: now };
    await tx
      .insert(nodeStatus)
      .values({ nodeId: msg.nodeId, ...row })
      .onConflictDoUpdate({ target: nodeStatus.nodeId, set: row });
    if (next.presence) await tx.insert(events).values({ siteId, nodeId: msg.nodeId, type: next.presence, data: {}, at: now });
  });
}
