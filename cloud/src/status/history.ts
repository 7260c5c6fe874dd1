import { and, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import type { SiteStatus } from '#shared/status/model.ts';
import type { StateSpan } from '#shared/status/uptime.ts';
import type { Db } from '../db/client.ts';
import { LOCK_NAMESPACE } from '../db/advisory-lock.ts';
import { leaseKey } from '../publisher/lease-plan.ts';
import { statusHistory } from '../db/schema.ts';
import { HISTORY_DEFAULTS, historySubjects, planHistory, type HistoryOptions, type HistoryPlan, type OpenSpan } from './history-plan.ts';

const DAY_MS = 86_400_000;
/** How long state history is kept: the uptime bar shows 90 days. */
const HISTORY_RETENTION_DAYS = 90;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Writes the state history of every site the status book evaluates (the thin shell of
 * `planHistory`). Every replica on one database evaluates every site and writes through its own
 * StatusHistory, so each write plans from the stored spans, under a transaction advisory lock per
 * site: the replica that writes second finds the span the first started and confirms it, and a
 * span is written once however many replicas evaluate. Memory keeps only how recently this
 * replica saw each stored span hold (its confirmation, written at most every `flushEveryMs`).
 * An evaluation for which that memory plans nothing (the states it last wrote or read, nothing
 * due) writes nothing and takes no lock: the alerter evaluates every site every 2 s, and most
 * rounds change nothing.
 */
export class StatusHistory {
  private readonly open = new Map<string, Map<string, OpenSpan>>();
  private readonly queue = new Map<string, Promise<void>>();
  private lastPrune = 0;

  constructor(
    private readonly db: Db,
    private readonly opts: HistoryOptions & { retentionDays: number } = { ...HISTORY_DEFAULTS, retentionDays: HISTORY_RETENTION_DAYS },
  ) {}

  /** Records one evaluation of one site; evaluations of a site are written one after another, in call order. */
  record(siteId: string, status: SiteStatus, now: number): Promise<void> {
    const run = (this.queue.get(siteId) ?? Promise.resolve()).then(() => this.write(siteId, status, now));
    const settled = run.catch(() => undefined);
    this.queue.set(siteId, settled);
    void settled.then(() => this.queue.get(siteId) === settled && this.queue.delete(siteId));
    return run;
  }

  private async write(siteId: string, status: SiteStatus, now: number): Promise<void> {
    const current = historySubjects(status);
    const known = this.open.get(siteId);
    if (known && isEmpty(planHistory(known, current, now, this.opts))) {
      // Nothing this replica would write: no lock, no read. What it would read could only be
      // another replica's view of the same inputs; it plans from the stored spans again at its
      // next write (a state that changes, or a confirmation due within `flushEveryMs`).
      for (const subject of current.keys()) known.get(subject)!.confirmed = now;
      return this.prune(now);
    }
    const started = new Map<string, OpenSpan>();
    let open = new Map<string, OpenSpan>();
    let plan: HistoryPlan = { confirm: [], start: [], forget: [] };
    await this.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE.statusHistory}::int, ${leaseKey(siteId)}::int)`);
      const seen = this.open.get(siteId);
      open = mergeSeen(await this.load(tx, siteId), seen);
      // A subject gone from the site is closed once by each replica that had it open, never extended after.
      for (const subject of open.keys()) if (!current.has(subject) && !seen?.has(subject)) open.delete(subject);
      // A subject another replica confirmed later than this evaluation: its evaluation is the newer one.
      for (const [subject, span] of open)
        if (span.flushed > now) {
          open.delete(subject);
          current.delete(subject);
        }
      plan = planHistory(open, current, now, this.opts);
      for (const c of plan.confirm)
        await tx
          .update(statusHistory)
          .set({ confirmedAt: new Date(c.at) })
          .where(eq(statusHistory.id, c.id));
      if (plan.start.length) {
        const rows = await tx
          .insert(statusHistory)
          .values(plan.start.map((s) => ({ siteId, subject: s.subject, state: s.state, fromAt: new Date(s.from), confirmedAt: new Date(s.from) })))
          .returning({ id: statusHistory.id, subject: statusHistory.subject });
        for (const r of rows) {
          const s = plan.start.find((x) => x.subject === r.subject)!;
          started.set(r.subject, { id: r.id, state: s.state, from: s.from, confirmed: now, flushed: s.from });
        }
      }
    });
    // Only after the rows are in: a failed write leaves memory as it was, and the next evaluation tries again.
    for (const c of plan.confirm) {
      const span = open.get(c.subject);
      if (span) span.flushed = c.at;
    }
    for (const s of plan.forget) open.delete(s);
    for (const [subject, span] of started) open.set(subject, span);
    for (const subject of current.keys()) if (!started.has(subject)) open.get(subject)!.confirmed = now;
    this.open.set(siteId, open);
    await this.prune(now);
  }

  private async prune(now: number): Promise<void> {
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    await this.db.delete(statusHistory).where(lt(statusHistory.confirmedAt, new Date(now - this.opts.retentionDays * DAY_MS)));
  }

  /** The latest span of each subject of a site, as stored. */
  private async load(db: Pick<Db, 'selectDistinctOn'>, siteId: string): Promise<Map<string, OpenSpan>> {
    const rows = await db
      .selectDistinctOn([statusHistory.subject])
      .from(statusHistory)
      .where(eq(statusHistory.siteId, siteId))
      .orderBy(statusHistory.subject, desc(statusHistory.fromAt), desc(statusHistory.id));
    return new Map(
      rows.map((r) => [
        r.subject,
        { id: r.id, state: r.state, from: r.fromAt.getTime(), confirmed: r.confirmedAt.getTime(), flushed: r.confirmedAt.getTime() },
      ]),
    );
  }
}

function isEmpty(plan: HistoryPlan): boolean {
  return !plan.confirm.length && !plan.start.length && !plan.forget.length;
}

/** The stored spans, each confirmed as late as this replica last saw it hold (memory knows only spans by their row). */
function mergeSeen(stored: Map<string, OpenSpan>, seen: Map<string, OpenSpan> | undefined): Map<string, OpenSpan> {
  for (const [subject, span] of stored) {
    const mine = seen?.get(subject);
    if (mine?.id === span.id) span.confirmed = Math.max(span.confirmed, mine.confirmed);
  }
  return stored;
}

/**
 * The stored spans of some subjects of a site that reach into the window starting at `since`
 * (ms), per subject. The newest span's confirmation is as fresh as the writer's last flush.
 */
export async function readHistory(db: Db, siteId: string, subjects: string[], since: number): Promise<Map<string, StateSpan[]>> {
  const out = new Map<string, StateSpan[]>(subjects.map((s) => [s, []]));
  if (!subjects.length) return out;
  const rows = await db
    .select({ subject: statusHistory.subject, state: statusHistory.state, fromAt: statusHistory.fromAt, confirmedAt: statusHistory.confirmedAt })
    .from(statusHistory)
    .where(and(eq(statusHistory.siteId, siteId), inArray(statusHistory.subject, subjects), gte(statusHistory.confirmedAt, new Date(since))))
    .orderBy(statusHistory.fromAt, sql`${statusHistory.id}`);
  for (const r of rows) out.get(r.subject)?.push({ state: r.state, from: r.fromAt.getTime(), confirmed: r.confirmedAt.getTime() });
  return out;
}
