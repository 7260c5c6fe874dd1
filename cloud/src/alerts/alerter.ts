import { gt } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { events, sites } from '../db/schema.ts';
import { loadStatusView } from '../pages/load-view.ts';
import { evaluateSite, type AlertState, type EvaluateOptions, DEFAULT_EVALUATE } from './evaluate.ts';
import { deliverDue, enqueueDeliveries, type Fetch } from './queue.ts';
import type { WebhookTargetPolicy } from './webhook-target.ts';
import { webhookFetch } from './webhook-transport.ts';

export interface Alerter {
  /** One round: evaluate every site, queue new events for webhooks, send what is due. */
  tick(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The cloud's alerting loop: cross-node findings become rows in `events` (so they show in the
 * status API and history like agent events), and every event reaches the webhooks that want it.
 */
export function startAlerter(opts: {
  db: Db;
  fetch?: Fetch;
  /** Where the default sender may connect (default: public addresses only). */
  webhookTargets?: WebhookTargetPolicy;
  intervalMs?: number;
  evaluate?: EvaluateOptions;
  log?: (l: string) => void;
  now?: () => Date;
}): Alerter {
  const { db } = opts;
  const now = opts.now ?? (() => new Date());
  const fetchImpl: Fetch = opts.fetch ?? webhookFetch(opts.webhookTargets ?? { allowPrivate: false });
  const states = new Map<string, AlertState>();
  let running: Promise<void> | null = null;
  let closed = false;

  async function round(): Promise<void> {
    const siteRows = await db.select({ id: sites.id, name: sites.name }).from(sites).where(gt(sites.currentRevision, 0));
    for (const s of siteRows) {
      const view = await loadStatusView(db, s.name, now());
      if (!view) continue;
      const r = evaluateSite(states.get(s.id) ?? {}, view, now().getTime(), opts.evaluate ?? DEFAULT_EVALUATE);
      states.set(s.id, r.state);
      for (const e of r.events) {
        await db.insert(events).values({ siteId: s.id, nodeId: e.nodeId, type: e.type, data: e.data, at: new Date(e.at) });
        opts.log?.(`alert ${e.type} ${s.name}: ${e.summary}`);
      }
    }
    await enqueueDeliveries(db);
    await deliverDue(db, { fetch: fetchImpl, now, log: opts.log });
  }

  const tick = (): Promise<void> => {
    running ??= round()
      .catch((err) => opts.log?.(`alerting round failed: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => (running = null));
    return running;
  };
  const timer = setInterval(() => void (closed || tick()), opts.intervalMs ?? 2_000);
  timer.unref();
  return {
    tick,
    async close() {
      closed = true;
      clearInterval(timer);
      await running;
    },
  };
}
