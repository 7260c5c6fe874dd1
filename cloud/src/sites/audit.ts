import type { Db } from '../db/client.ts';
import { auditLog } from '../db/schema.ts';

/** Anything that can run an insert: the db or a transaction. */
export type Writer = Pick<Db, 'insert'>;

/** Records one write in `audit_log` (every API write lands there, in the write's own transaction). */
export async function audit(
  w: Writer,
  entry: { orgId: string; actor: string; action: string; target: string; detail?: Record<string, unknown> },
): Promise<void> {
  await w.insert(auditLog).values({ ...entry, detail: entry.detail ?? {} });
}
