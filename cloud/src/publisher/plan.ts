import { formatVersion, isNewer, versionOf, type DocumentVersion } from '#shared/wire/desired.ts';

/**
 * What one drain of the outbox does, decided without I/O.
 *
 * The desired topic is retained, so the broker keeps only the last document per node: only the
 * newest unpublished revision of a node needs to go out, and an older revision must never follow a
 * newer one (docs/architecture.md, "Flow of a revision": never published out of order for a node).
 * "Newer" is the agents' order: the revision, then the override generation (a row for the same
 * revision with changed overrides supersedes the older one).
 */
export interface PendingRow {
  id: number;
  nodeId: string;
  revision: number;
  /** The override generation of the row's claims (0 for rows from before overrides). */
  overridesVersion?: number;
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
 * @param lastPublished newest document version actually published per node
 */
export function planDrain<R extends PendingRow>(pending: readonly R[], lastPublished: ReadonlyMap<string, DocumentVersion>, now: Date): DrainPlan<R> {
  const byNode = new Map<string, R[]>();
  for (const row of pending) {
    const list = byNode.get(row.nodeId) ?? [];
    list.push(row);
    byNode.set(row.nodeId, list);
  }
  const plan: DrainPlan<R> = { publish: [], skip: [] };
  for (const [nodeId, rows] of [...byNode].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    rows.sort((a, b) => a.revision - b.revision || (a.overridesVersion ?? 0) - (b.overridesVersion ?? 0) || a.id - b.id);
    const floor = lastPublished.get(nodeId) ?? { revision: 0, overridesVersion: 0 };
    const live: R[] = [];
    for (const row of rows) {
      if (!isNewer(versionOf(row), floor)) plan.skip.push({ row, after: null, reason: `${formatVersion(floor)} already published` });
      else live.push(row);
    }
    const newest = live.at(-1);
    // Wait for the newest one's back-off rather than publish an older one now and a newer later.
    if (!newest || newest.nextAttemptAt.getTime() > now.getTime()) continue;
    plan.publish.push(newest);
    for (const row of live.slice(0, -1)) plan.skip.push({ row, after: newest.id, reason: `superseded by ${formatVersion(versionOf(newest))}` });
  }
  return plan;
}
