import { and, eq, isNull } from 'drizzle-orm';
import { conditionsOf } from '#shared/status/conditions.ts';
import type { Db } from '../db/client.ts';
import { alerts, events } from '../db/schema.ts';
import { StatusBook } from '../status/book.ts';
import { stepAlerts, type AlertChange, type AlertOptions, type AlertState } from './evaluate.ts';
import { DEFAULT_WEBHOOK_TIMEOUT_MS, enqueueDeliveries, type DeliveryCounts, type Fetch } from './queue.ts';
import { startSender } from './sender.ts';
import type { WebhookTargetPolicy } from './webhook-target.ts';
import { webhookFetch } from './webhook-transport.ts';

export interface Alerter {
  /** One round: evaluate every site, record raised and resolved alerts, queue events for webhooks, send what is due. */
  tick(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The cloud's alerting loop: every site's status (the same model the pages show) becomes alert
 * conditions; raises and resolutions become rows in `events` (so they show in the status API and
 * history like agent events) and in `alerts` (open ones survive a restart), and every event
 * reaches the webhooks that want it. Sending runs in a loop of its own: a receiver that never
 * answers holds its sends for their timeout, and the next evaluation must not wait for them.
 */
export function startAlerter(opts: {
  db: Db;
  status?: StatusBook;
  fetch?: Fetch;
  /** Where the default sender may connect (default: public addresses only). */
  webhookTargets?: WebhookTargetPolicy;
  intervalMs?: number;
  /** How long one webhook send may take before it is retried (default 10 s). */
  webhookTimeoutMs?: number;
  alerts?: AlertOptions;
  /** The public base URL, for links to status pages in Slack messages (read at each round: known once the server listens). */
  baseUrl?: () => string | undefined;
  /** Each sending round's delivery outcomes (the metrics count them). */
  onDeliveries?: (counts: DeliveryCounts) => void;
  log?: (l: string) => void;
  now?: () => Date;
}): Alerter {
  const { db } = opts;
  const book = opts.status ?? new StatusBook(db);
  const now = opts.now ?? (() => new Date());
  const fetchImpl: Fetch = opts.fetch ?? webhookFetch(opts.webhookTargets ?? { allowPrivate: false });
  let states: Map<string, AlertState> | null = null;
  let evaluating: Promise<void> | null = null;
  let closed = false;
  const every = opts.intervalMs ?? 2_000;
  const sender = startSender({
    db,
    fetch: fetchImpl,
    now,
    timeoutMs: opts.webhookTimeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
    intervalMs: every,
    onDeliveries: opts.onDeliveries,
    log: opts.log,
  });
  const evaluate = (): Promise<void> => {
    evaluating ??= alertRound({ db, book, now, alerts: opts.alerts, baseUrl: opts.baseUrl?.(), log: opts.log }, states)
      .then((next) => {
        states = next;
        // What this round queued goes out now, not at the sender's next tick.
        sender.kick();
      })
      .catch((err) => opts.log?.(`alerting round failed: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => (evaluating = null));
    return evaluating;
  };
  const timer = setInterval(() => void (closed || evaluate()), every);
  timer.unref();
  return {
    async tick() {
      await evaluate();
      await sender.tick();
    },
    async close() {
      closed = true;
      clearInterval(timer);
      // The sender stops now, not after the round: a send that fails meanwhile must not start the next.
      await Promise.all([evaluating, sender.close()]);
    },
  };
}

/** What one alerting round needs (the Node loop above and the Workers cron give the same). */
export interface AlertRoundOptions {
  db: Db;
  book: StatusBook;
  now: () => Date;
  alerts?: AlertOptions;
  baseUrl?: string;
  log?: (l: string) => void;
}

/**
 * One alerting round: every site's conditions stepped from `states` (the watched conditions of
 * the round before; null: read the open alerts back), raises and resolutions recorded once, and
 * events queued for webhooks. Answers the states for the next round, which a caller without a
 * long-lived process (the Workers cron) keeps in storage between rounds so a condition's debounce
 * spans them.
 */
export async function alertRound(o: AlertRoundOptions, states: Map<string, AlertState> | null): Promise<Map<string, AlertState>> {
  const { db } = o;
  const next = states ?? (await loadOpen(db));
  const t = o.now().getTime();
  for (const v of await o.book.all(t)) {
    const r = stepAlerts(next.get(v.siteId) ?? {}, v.status.site, conditionsOf(v.status), t, o.alerts);
    try {
      for (const ch of r.changes) await record(db, v.siteId, ch, o.log);
      next.set(v.siteId, r.state);
    } catch (err) {
      // One site's failed write (a lost connection, a replica's conflict) must not hold back the
      // others' alerts. Its state stays as before, so the next round steps the same changes again;
      // the claims already written make that repeat a no-op for them.
      o.log?.(`alerting ${v.status.site}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  await enqueueDeliveries(db, { baseUrl: o.baseUrl });
  return next;
}

/** Open alerts from before a restart: they are not raised again, and their resolution is not lost. */
async function loadOpen(db: Db): Promise<Map<string, AlertState>> {
  const rows = await db.select().from(alerts).where(isNull(alerts.resolvedAt));
  const m = new Map<string, AlertState>();
  for (const r of rows) {
    const s = m.get(r.siteId) ?? {};
    s[r.key] = {
      key: r.key,
      type: r.type as AlertChange['condition']['type'],
      severity: r.severity,
      subject: r.subject,
      summary: r.summary,
      firstSeenAt: r.firstSeenAt.getTime(),
      raisedAt: r.raisedAt.getTime(),
    };
    m.set(r.siteId, s);
  }
  return m;
}

/**
 * Records a raise or a resolution once across replicas: the `alerts` row is the claim (the open
 * alert's unique index for a raise, `resolved_at IS NULL` for a resolution), and only the
 * replica whose write took it adds the event that webhooks send. The others' writes find the
 * row taken (PostgreSQL makes the second writer wait for the first to commit) and add nothing.
 */
async function record(db: Db, siteId: string, ch: AlertChange, log?: (l: string) => void): Promise<void> {
  const { event: e, condition: c } = ch;
  const won = await db.transaction(async (tx) => {
    const claimed =
      ch.kind === 'raised'
        ? await tx
            .insert(alerts)
            .values({
              siteId,
              key: c.key,
              type: c.type,
              severity: c.severity,
              subject: c.subject,
              summary: c.summary,
              firstSeenAt: new Date(c.firstSeenAt),
              raisedAt: new Date(c.raisedAt!),
            })
            .onConflictDoNothing()
            .returning({ id: alerts.id })
        : await tx
            .update(alerts)
            .set({ resolvedAt: new Date(e.at) })
            .where(and(eq(alerts.siteId, siteId), eq(alerts.key, c.key), isNull(alerts.resolvedAt)))
            .returning({ id: alerts.id });
    if (!claimed.length) return false;
    await tx.insert(events).values({ siteId, nodeId: e.nodeId, type: e.type, data: e.data, at: new Date(e.at) });
    return true;
  });
  if (won) log?.(`alert ${e.type} ${e.site}: ${e.summary}`);
}
