import type { Db } from '../db/client.ts';
import { nodeStatus } from '../db/schema.ts';

/** The databases the status tests run on: PGlite always, PostgreSQL when DATABASE_URL names one. */
export const statusDbVariants = [
  { name: 'PGlite', skip: false as string | false },
  { name: 'PostgreSQL', skip: !process.env.DATABASE_URL ? 'DATABASE_URL not set' : false },
];

/** A node's status report received at `at`, as ingest stores it (appliedRevision 1, online). */
export function reportRow(nodeId: string, at: number, extra: object = {}) {
  return {
    nodeId,
    online: true,
    status: { nodeId, online: true, at: new Date(at).toISOString(), appliedRevision: 1, ...extra },
    appliedRevision: 1,
    updatedAt: new Date(at),
  };
}

/** Stores `row` as the node's last report, over any before it. */
export async function storeReport(db: Db, row: ReturnType<typeof reportRow>): Promise<void> {
  await db
    .insert(nodeStatus)
    .values(row)
    .onConflictDoUpdate({ target: nodeStatus.nodeId, set: { status: row.status, updatedAt: row.updatedAt, online: row.online } });
}
