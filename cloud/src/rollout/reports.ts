import { and, eq, gte, inArray, isNull, or } from 'drizzle-orm';
import { NodeStatus } from '#shared/wire/status.ts';
import type { Db } from '../db/client.ts';
import { inJsonList } from '../db/in-json.ts';
import { events, nodes, nodeStatus } from '../db/schema.ts';
import type { NodeReport, Reports } from './plan.ts';
import type { Tx } from './store.ts';

/** A report older than this is not evidence: the status model's window (three of the agents' 15 s heartbeats). */
const FRESH_MS = 45_000;

/**
 * The rollout planner's view of the live nodes of a site: each one's latest status (fresh or not,
 * applied revision, VRRP states, real servers whose check failed) and the failures it reported
 * for `revision` since `since` (an `apply.failed` event, or a status holding the revision pending
 * with errors). With `rolloutNodes`, only what the planner reads (./plan.ts): every director's
 * report, which holds the site's VRRP states and the real servers the directors see down, and the
 * reports of the rollout's own nodes. Another real server's report holds neither (its config has
 * no VRRP instance and no service), so it is not read: in a live 1,000-node fleet reading and
 * checking every node's status added 7-12 ms (PostgreSQL) and 18 ms (PGlite) to a staged apply that
 * changes one real server's weight, and the driver reads them at every tick of a rollout.
 */
export async function loadReports(db: Db | Tx, siteId: string, revision: number, since: Date, now: number, rolloutNodes?: readonly string[]): Promise<Reports> {
  const ofSite = and(
    eq(nodes.siteId, siteId),
    isNull(nodes.removedAt),
    rolloutNodes ? or(eq(nodes.role, 'director'), inJsonList(nodes.name, rolloutNodes)) : undefined,
  );
  // None of the three reads needs another's answer, so they go out together (in a transaction, one
  // after another on its connection without waiting): a staged apply and each rollout tick wait
  // one round trip instead of three. The statuses take the live nodes as a subquery, not 1,000
  // bound ids (each bound value costs drizzle and the driver a parameter object).
  const [live, rows, failures] = await Promise.all([
    db.select({ id: nodes.id, name: nodes.name }).from(nodes).where(ofSite),
    db
      .select()
      .from(nodeStatus)
      .where(inArray(nodeStatus.nodeId, db.select({ id: nodes.id }).from(nodes).where(ofSite))),
    db
      .select({ nodeId: events.nodeId, data: events.data })
      .from(events)
      .where(and(eq(events.siteId, siteId), eq(events.type, 'apply.failed'), gte(events.receivedAt, since))),
  ]);
  if (!live.length) return {};
  const statusOf = new Map(rows.map((r) => [r.nodeId, r]));
  // Each node's first failure of this revision, found once: not a scan of every failure per node.
  const failedOf = new Map<string, (typeof failures)[number]>();
  for (const f of failures)
    if (f.nodeId !== null && !failedOf.has(f.nodeId) && (f.data as { revision?: unknown }).revision === revision) failedOf.set(f.nodeId, f);
  const out: Record<string, NodeReport> = {};
  for (const n of live) {
    const row = statusOf.get(n.id);
    const parsed = row ? NodeStatus.safeParse({ ...(row.status as object), nodeId: n.id, online: row.online }) : null;
    const st = parsed?.success ? parsed.data : null;
    const failedEvent = failedOf.get(n.id);
    let failed: NodeReport['failed'] = failedEvent ? { revision, error: String((failedEvent.data as { error?: unknown }).error ?? 'apply failed') } : null;
    if (!failed && st?.pendingRevision === revision && st.errors?.length) failed = { revision, error: st.errors[0] };
    out[n.name] = {
      fresh: !!row && !!st && row.online && st.online && now - row.updatedAt.getTime() <= FRESH_MS,
      appliedRevision: st?.appliedRevision ?? null,
      failed,
      vrrp: (st?.vrrp ?? []).map((v) => ({ instance: v.instance, state: v.state })),
      down: (st?.services ?? []).flatMap((s) => s.realServers.filter((r) => !r.healthy && r.checked !== false).map((r) => `${s.name}/${r.address}:${r.port}`)),
    };
  }
  return out;
}
