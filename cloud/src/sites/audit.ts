import { and, desc, eq, gte, lt, notLike } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { auditLog } from '../db/schema.ts';

/** Anything that can run an insert: the db or a transaction. */
export type Writer = Pick<Db, 'insert'>;

/** Records one write in `audit_log` (every API write lands there, in the write's own transaction); `site` names the site it concerns, for `GET /v1/audit?site=`. */
export async function audit(
  w: Writer,
  entry: { orgId: string; actor: string; action: string; target: string; site?: string; detail?: Record<string, unknown> },
): Promise<void> {
  await w.insert(auditLog).values({ ...entry, detail: entry.detail ?? {} });
}

/** Actions on org-wide admin objects (tokens, webhooks): only admin tokens read them back. */
const ADMIN_ACTION_PREFIXES = ['token.', 'webhook.'];

export interface AuditQuery {
  orgId: string;
  site?: string;
  action?: string;
  actor?: string;
  since?: Date;
  until?: Date;
  /** Entries older than this id (the previous page's `next`). */
  before?: number;
  limit: number;
  /** Whether token and webhook entries are included (admin scope). */
  admin: boolean;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  site: string | null;
  detail: Record<string, unknown>;
}

/** One page of the audit log, newest first, and the cursor of the next page (null at the end). */
export async function listAudit(db: Db, q: AuditQuery): Promise<{ entries: AuditEntry[]; next: number | null }> {
  const where = [
    eq(auditLog.orgId, q.orgId),
    q.site !== undefined ? eq(auditLog.site, q.site) : undefined,
    q.action !== undefined ? eq(auditLog.action, q.action) : undefined,
    q.actor !== undefined ? eq(auditLog.actor, q.actor) : undefined,
    q.since ? gte(auditLog.at, q.since) : undefined,
    q.until ? lt(auditLog.at, q.until) : undefined,
    q.before !== undefined ? lt(auditLog.id, q.before) : undefined,
    q.admin ? undefined : and(...ADMIN_ACTION_PREFIXES.map((p) => notLike(auditLog.action, `${p}%`))),
  ];
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.id))
    .limit(q.limit + 1);
  const page = rows.slice(0, q.limit);
  return {
    entries: page.map((r) => ({
      id: r.id,
      at: r.at.toISOString(),
      actor: r.actor,
      action: r.action,
      target: r.target,
      site: r.site,
      detail: r.detail as Record<string, unknown>,
    })),
    next: rows.length > q.limit ? page[page.length - 1].id : null,
  };
}
