import { alertRound } from '../alerts/alerter.ts';
import { sendRound } from '../alerts/sender.ts';
import type { AlertState } from '../alerts/evaluate.ts';
import { expireSilentNodes } from '../ingest/silent-nodes.ts';
import { STALE_AFTER_MS, StatusBook } from '../status/book.ts';
import { openWorkerDb } from './db.ts';
import type { DurableObjectState, Env } from './env.ts';
import { workerWebhookFetch } from './webhook-fetch.ts';
import { nameList } from '#shared/util/name-list.ts';

/**
 * The Workers alerter: the cron (`scheduled()`) asks this one Durable Object for a round. Nodes
 * silent for longer than the report window first get their last will (`expireSilentNodes`). It runs
 * the Node alerter's round (`alertRound`: the `alerts` row claims a raise or resolution), keeps the
 * watched conditions in its storage between rounds, so a condition's debounce spans cron runs, and
 * then sends what is due (`sendRound`: deliveries are claimed FOR UPDATE SKIP LOCKED, so a round
 * beside Node replicas on the same database records and sends each alert once). One object, a
 * round a minute. The states are stored before the sends: a send may take its whole timeout, and
 * an object takes its next request while it waits on the network, so the next cron's round, if it
 * comes while a send still hangs, steps from the states this one wrote.
 */
export class AlertLoop {
  constructor(
    private readonly state: DurableObjectState,
    private readonly env: Env,
  ) {}

  async fetch(): Promise<Response> {
    const db = openWorkerDb(this.env);
    if (!db) return Response.json({ error: { code: 'unavailable', message: 'no database' } }, { status: 503 });
    const silent = await expireSilentNodes(db, new Date(), STALE_AFTER_MS);
    if (silent.length) console.log(`cron: no report for ${STALE_AFTER_MS / 1000} s: ${nameList(silent)} offline (last will)`);
    const stored = await this.state.storage.get<[string, AlertState][]>('states');
    const log = (line: string) => console.log(line);
    const now = () => new Date();
    const states = await alertRound({ db, book: new StatusBook(db), now, baseUrl: this.env.PUBLIC_URL, log }, stored ? new Map(stored) : null);
    await this.state.storage.put('states', [...states]);
    await sendRound({ db, fetch: workerWebhookFetch({ allowPrivate: this.env.WEBHOOK_ALLOW_PRIVATE === 'on' }), now, log });
    return new Response(null, { status: 204 });
  }
}
