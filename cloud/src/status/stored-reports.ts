import { NodeStatus } from '#shared/wire/status.ts';
import type { Db } from '../db/client.ts';
import { inJsonList } from '../db/in-json.ts';
import { nodeStatus } from '../db/schema.ts';

/** A node's stored report (`node_status`): its presence, when it was stored (ms), and its status validated (null when it is not one). */
export interface StoredReport {
  online: boolean;
  updatedAt: number;
  status: NodeStatus | null;
}

/** A stored status document, validated (null when it is not a report); the row's node id and presence stand over what it says. */
export function validatedStatus(nodeId: string, online: boolean, doc: unknown): NodeStatus | null {
  const parsed = NodeStatus.safeParse({ ...(doc as object), nodeId, online });
  return parsed.success ? parsed.data : null;
}

/** A stored row's report, validated. */
export function validatedReport(r: { nodeId: string; online: boolean; status: unknown; updatedAt: Date }): StoredReport {
  return { updatedAt: r.updatedAt.getTime(), online: r.online, status: validatedStatus(r.nodeId, r.online, r.status) };
}

/**
 * The report of each node in `stamps` (its stored time and presence, read beforehand): the one in
 * `before` where both are the same, else read whole and validated now, at the row's state then (a
 * row stored since the stamps were read is taken at its newer time). A 10,000-node site's reports
 * are megabytes (each director's lists every real server) and the agents report every 15 s: most
 * reads of them find few moved.
 */
export async function refreshReports(
  db: Pick<Db, 'select'>,
  stamps: Iterable<{ nodeId: string; online: boolean; updatedAt: Date }>,
  before?: ReadonlyMap<string, StoredReport>,
): Promise<Map<string, StoredReport>> {
  const out = new Map<string, StoredReport>();
  const moved: string[] = [];
  for (const r of stamps) {
    const known = before?.get(r.nodeId);
    if (known && known.updatedAt === r.updatedAt.getTime() && known.online === r.online) out.set(r.nodeId, known);
    else moved.push(r.nodeId);
  }
  if (moved.length) {
    const rows = await db
      .select({ nodeId: nodeStatus.nodeId, online: nodeStatus.online, status: nodeStatus.status, updatedAt: nodeStatus.updatedAt })
      .from(nodeStatus)
      .where(inJsonList(nodeStatus.nodeId, moved));
    for (const r of rows) out.set(r.nodeId, validatedReport(r));
  }
  return out;
}
