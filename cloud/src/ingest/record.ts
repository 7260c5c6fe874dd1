import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { events, nodeStatus } from '../db/schema.ts';
import { mergeStatus, type Incoming } from './decide.ts';

/**
 * Stores one accepted report of a known node (docs/architecture.md, "Status and events"): an
 * event goes to `events`; a status replaces the node's `node_status` row (merged with the last
 * will by `mergeStatus`) and adds `node.online` / `node.offline` when presence changed. The same
 * for a report that came over MQTT (ingest.ts) and one POSTed to the API (routes/agent-report.ts).
 */
export async function recordReport(db: Db, siteId: string, msg: Extract<Incoming, { kind: 'status' | 'event' }>, now: Date): Promise<void> {
  if (msg.kind === 'event') {
    await db.insert(events).values({ siteId, nodeId: msg.nodeId, type: msg.event.type, data: msg.event.data, at: new Date(msg.event.at) });
    return;
  }
  await db.transaction(async (tx) => {
    const [prev] = await tx.select().from(nodeStatus).where(eq(nodeStatus.nodeId, msg.nodeId)).for('update');
    const next = mergeStatus(
      prev ? { online: prev.online, appliedRevision: prev.appliedRevision, status: prev.status as Record<string, unknown> } : undefined,
      msg.status,
    );
    const row = { online: next.online, appliedRevision: next.appliedRevision, status: next.status, updatedAt: now };
    await tx
      .insert(nodeStatus)
      .values({ nodeId: msg.nodeId, ...row })
      .onConflictDoUpdate({ target: nodeStatus.nodeId, set: row });
    if (next.presence) await tx.insert(events).values({ siteId, nodeId: msg.nodeId, type: next.presence, data: {}, at: now });
  });
}
