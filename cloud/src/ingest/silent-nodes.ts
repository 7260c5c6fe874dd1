import { and, eq, isNull, lt } from 'drizzle-orm';
import { lastWill } from '#shared/wire/status.ts';
import type { Db } from '../db/client.ts';
import { events, nodes, nodeStatus } from '../db/schema.ts';
import { mergeStatus } from './decide.ts';

/**
 * The last will of nodes that report over HTTPS (docs/architecture.md, "Runtimes"). Over MQTT the
 * broker publishes a node's will `{nodeId, online:false}` when its connection has been silent for
 * 1.5 keepalives; a POSTed report has no connection to lose, so the Workers cron does it: a node
 * still marked online whose last report is older than `staleAfterMs` gets its will stored as if it
 * had come from the broker (`mergeStatus`: what it last said is kept, `node.offline` is recorded),
 * so the status model sees it offline and the alerter raises `node.offline`. Each node is
 * re-checked under its row lock, so a report that arrives meanwhile wins. Answers the node ids.
 */
export async function expireSilentNodes(db: Db, now: Date, staleAfterMs: number): Promise<string[]> {
  const cutoff = new Date(now.getTime() - staleAfterMs);
  const silent = await db
    .select({ nodeId: nodeStatus.nodeId, siteId: nodes.siteId })
    .from(nodeStatus)
    .innerJoin(nodes, eq(nodes.id, nodeStatus.nodeId))
    // A node removed from the spec stops reporting by design: no will for it.
    .where(and(eq(nodeStatus.online, true), lt(nodeStatus.updatedAt, cutoff), isNull(nodes.removedAt)));
  const expired: string[] = [];
  for (const { nodeId, siteId } of silent) {
    const done = await db.transaction(async (tx) => {
      const [prev] = await tx.select().from(nodeStatus).where(eq(nodeStatus.nodeId, nodeId)).for('update');
      if (!prev?.online || prev.updatedAt >= cutoff) return false;
      const next = mergeStatus(
        { online: prev.online, appliedRevision: prev.appliedRevision, status: prev.status as Record<string, unknown> },
        lastWill(nodeId),
      );
      await tx
        .update(nodeStatus)
        .set({ online: next.online, appliedRevision: next.appliedRevision, status: next.status, updatedAt: now })
        .where(eq(nodeStatus.nodeId, nodeId));
      if (next.presence) await tx.insert(events).values({ siteId, nodeId, type: next.presence, data: {}, at: now });
      return true;
    });
    if (done) expired.push(nodeId);
  }
  return expired;
}
