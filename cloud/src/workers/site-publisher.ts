import { backoffDelayMs } from '#shared/util/backoff.ts';
import { loadSigner } from '../keys/signing.ts';
import { createPublishLink } from '../mqtt/link.ts';
import { nextDueInMs, sitesWithOpenRows } from '../publisher/outbox-store.ts';
import type { Db } from '../db/client.ts';
import { sites } from '../db/schema.ts';
import { openWorkerDb } from './db.ts';
import { brokerOf, type DurableObjectState, type Env } from './env.ts';
import { workerMqttConnect } from './mqtt-transport.ts';
import { drainSite, republishSite } from './site-drain.ts';

/** What a site's publisher answers on GET. Times are ISO 8601; `failures`: drains failed in a row. */
export interface PublisherState {
  siteId: string | null;
  drainingSince: string | null;
  alarmAt: string | null;
  failures: number;
}

/** A retry is never sooner than this after a drain (the alarm's own floor). */
const MIN_RETRY_MS = 1000;

/**
 * The Workers publisher (docs/architecture.md, "Runtimes"): one Durable Object per site, named by
 * the site id, so one writer drains a site's outbox at a time (what the Node replicas' site leases
 * give). An apply (or the cron) wakes it with a POST naming the site; it drains at its alarm
 * (`drainSite`) and sets the alarm again for the earliest back-off of what failed. It keeps the
 * key-set generation it last signed under: when the keys moved since (rotation), every node of
 * the site gets its newest document again first (`republishSite`). A drain that throws (the
 * database or the broker away) is logged and tried again by its own alarm with back-off: the
 * runtime's alarm retries give up after a few, and the rows would wait for the next cron. A GET
 * answers what it is doing: a drain under way since when, its next alarm, the drains failed in a row.
 */
export class SitePublisher {
  /** When the drain under way began (ms), or null: an alarm runs one at a time. */
  private drainingSince: number | null = null;

  constructor(
    private readonly state: DurableObjectState,
    private readonly env: Env,
  ) {}

  async fetch(request: Request): Promise<Response> {
    if (request.method === 'GET') return Response.json(await this.describe());
    const siteId = (await request.text()).trim();
    if (!siteId || siteId.length > 200) return Response.json({ error: { code: 'bad_request', message: 'the body names the site id' } }, { status: 400 });
    await this.state.storage.put('siteId', siteId);
    const at = await this.state.storage.getAlarm();
    if (at === null || at > Date.now()) await this.state.storage.setAlarm(Date.now());
    return new Response(null, { status: 202 });
  }

  /** What this publisher is doing: its site, a drain under way, its next alarm, the drains failed in a row. */
  private async describe(): Promise<PublisherState> {
    const [siteId, at, failures] = await Promise.all([
      this.state.storage.get<string>('siteId'),
      this.state.storage.getAlarm(),
      this.state.storage.get<number>('failures'),
    ]);
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return { siteId: siteId ?? null, drainingSince: iso(this.drainingSince), alarmAt: iso(at), failures: failures ?? 0 };
  }

  async alarm(): Promise<void> {
    this.drainingSince = Date.now();
    try {
      await this.drain();
      await this.state.storage.delete('failures');
    } catch (err) {
      const failures = ((await this.state.storage.get<number>('failures')) ?? 0) + 1;
      await this.state.storage.put('failures', failures);
      const wait = backoffDelayMs(failures - 1, Math.random());
      const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
      console.error(
        `publisher: drain failed (${failures} in a row): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}${cause}; again in ${wait} ms`,
      );
      await this.state.storage.setAlarm(Date.now() + Math.max(wait, MIN_RETRY_MS));
    } finally {
      this.drainingSince = null;
    }
  }

  private async drain(): Promise<void> {
    const siteId = await this.state.storage.get<string>('siteId');
    const db = openWorkerDb(this.env);
    const broker = brokerOf(this.env);
    if (!siteId || !db || !broker) return console.error(`publisher: cannot drain ${siteId ?? '(no site)'}: ${db ? 'MQTT_URL' : 'database'} not configured`);
    const log = (line: string) => console.log(line);
    const link = createPublishLink({ ...broker, clientIdPrefix: 'lvsfleet-site', connect: workerMqttConnect, log });
    let retryKeys = false;
    try {
      const signer = await loadSigner(db, { keySecret: this.env.SIGNING_KEY_SECRET });
      // Before the first drain there is nothing of this publisher's on the broker to sign again.
      const signedUnder = await this.state.storage.get<number>('generation');
      if (signedUnder !== undefined && signedUnder !== signer.generation) {
        const again = await republishSite(db, siteId, link, signer, log);
        log(`publisher: ${siteId}: key set generation ${signedUnder}→${signer.generation}: ${again.published} document(s) signed and published again`);
        retryKeys = again.failed > 0;
      }
      const r = await drainSite(db, siteId, link, signer, log);
      if (r.published) log(`publisher: ${siteId}: published ${r.published} desired document(s)`);
      if (!retryKeys) await this.state.storage.put('generation', signer.generation);
    } finally {
      await link.close();
    }
    // The back-off left, measured on the database's clock, from this object's own now.
    const dueIn = await nextDueInMs(db, siteId);
    const retryAt = retryKeys ? Date.now() + MIN_RETRY_MS : null;
    const at = [dueIn === null ? null : Date.now() + dueIn, retryAt].filter((t): t is number => t != null);
    if (at.length) await this.state.storage.setAlarm(Math.max(Math.min(...at), Date.now() + MIN_RETRY_MS));
  }
}

/** Wakes the publishers of `siteIds`. */
async function wake(env: Env, siteIds: string[]): Promise<void> {
  await Promise.all(
    siteIds.map((siteId) =>
      env.SITE_PUBLISHER.get(env.SITE_PUBLISHER.idFromName(siteId)).fetch('https://site-publisher/wake', { method: 'POST', body: siteId }),
    ),
  );
}

/** Wakes the publisher of every site with an open outbox row (after an apply commits, and on the cron). */
export async function wakePublishers(db: Db, env: Env): Promise<number> {
  const open = await sitesWithOpenRows(db);
  await wake(env, open);
  return open.length;
}

/** Wakes every site's publisher (the key set changed: each signs its nodes' documents again). */
export async function wakeEveryPublisher(db: Db, env: Env): Promise<number> {
  const all = (await db.select({ id: sites.id }).from(sites)).map((s) => s.id);
  await wake(env, all);
  return all.length;
}
