/**
 * What one drain of the outbox does, decided without I/O.
 *
 * The desired topic is retained, so the broker keeps only the last document per node: only the
 * newest unpublished revision of a node needs to go out, and an older revision must never follow a
 * newer one (docs/architecture.md, "Flow of a revision": never published out of order for a node).
 */
export interface PendingRow {
  id: number;
  nodeId: string;
  revision: number;
  nextAttemptAt: Date;
}

export interface DrainPlan<R extends PendingRow> {
  /** One row per node: its newest unpublished revision, due now. */
  publish: R[];
  /** Rows to mark done without publishing, once `after` (a row id in publish) went out, or at once when after is null. */
  skip: { row: R; after: number | null; reason: string }[];
}

/**
 * @param pending unpublished rows (any order)
 * @param lastPublished newest revision actually published per node
 */
export function planDrain<R extends PendingRow>(pending: readonly R[], lastPublished: ReadonlyMap<string, number>, now: Date): DrainPlan<R> {
  const byNode = new Map<string, R[]>();
  for (const row of pending) {
    const list = byNode.get(row.nodeId) ?? [];
    list.push(row);
    byNode.set(row.nodeId, list);
  }
  const plan: DrainPlan<R> = { publish: [], skip: [] };
  for (const [nodeId, rows] of [...byNode].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    rows.sort((a, b) => a.revision - b.revision || a.id - b.id);
    const floor = lastPublished.get(nodeId) ?? 0;
    const live: R[] = [];
    for (const row of rows) {
      if (row.revision <= floor) plan.skip.push({ row, after: null, reason: `revision ${floor} already published` });
      else live.push(row);
    }
    const newest = live.at(-1);
    // Wait for the newest one's back-off rather than publish an older one now and a newer later.
    if (!newest || newest.nextAttemptAt.getTime() > now.getTime()) continue;
    plan.publish.push(newest);
    for (const row of live.slice(0, -1)) plan.skip.push({ row, after: newest.id, reason: `superseded by revision ${newest.revision}` });
  }
  return plan;
}
