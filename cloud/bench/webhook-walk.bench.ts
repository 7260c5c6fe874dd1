import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { cpuUsage } from 'node:process';
import { asc, eq, gt, isNull, ne, sql } from 'drizzle-orm';
import { ROUND_EVENTS, enqueueDeliveries } from '../src/alerts/queue.ts';
import { alertOf, newDeliveryId, payloadFor, wants } from '../src/alerts/payload.ts';
import { openBeside, openDatabase, type Db } from '../src/db/client.ts';
import { events, orgs, sites, webhookDeliveries, webhooks } from '../src/db/schema.ts';
import { freshPostgres } from '../test/pg.test-support.ts';
import { median, numberArg } from './figures.ts';

/**
 * `npm run bench:webhook-walk [-- --events N --rounds R]`: what one webhook's walk of a large
 * apply's events costs the alerter (default 10,000 `apply.succeeded` events of one site, and a few
 * warnings and criticals among them), on a fresh PostgreSQL database (DATABASE_URL) or PGlite.
 * For each webhook (min severity warning; a site filter for another site; a type list; everything),
 * times a round from its cursor at 0 to the newest event with the queue's walk (filtered in SQL,
 * `walkFilter`) and with the walk it replaced (every row read whole, judged in JS), in the same run;
 * both must queue the same events. Prints the process's CPU per round, median of R, the wall time,
 * and on PostgreSQL on this host its backend's CPU (one connection, /proc; 10 ms ticks). No
 * assertions on time.
 */
const N = numberArg('events', 10_000);
const ROUNDS = numberArg('rounds', 5);
/** The batch the replaced walk read, as queue.ts had it. */
const OLD_BATCH = 200;

/** The walk the queue made before `walkFilter`: every event after the cursor read whole, the org and `wants` checked in JS. */
async function oldEnqueueDeliveries(db: Db): Promise<number> {
  let queued = 0;
  const hooks = await db.select().from(webhooks).where(isNull(webhooks.disabledAt));
  for (const hook of hooks)
    for (let walked = 0; walked < ROUND_EVENTS; walked += OLD_BATCH) {
      const batch = await db.transaction(async (tx) => {
        const [cursor] = await tx.select({ lastEventId: webhooks.lastEventId }).from(webhooks).where(eq(webhooks.id, hook.id)).for('update');
        const rows = await tx
          .select({ e: events, siteName: sites.name, orgId: sites.orgId })
          .from(events)
          .leftJoin(sites, eq(sites.id, events.siteId))
          .where(gt(events.id, cursor.lastEventId))
          .orderBy(asc(events.id))
          .limit(OLD_BATCH);
        if (!rows.length) return { read: 0, queued: 0 };
        let n = 0;
        for (const { e, siteName, orgId } of rows) {
          if (orgId !== hook.orgId) continue;
          const alert = alertOf(e, siteName);
          if (!wants(hook, alert)) continue;
          await tx.insert(webhookDeliveries).values({ id: newDeliveryId(), webhookId: hook.id, eventId: e.id, payload: payloadFor(hook, alert) });
          n++;
        }
        await tx
          .update(webhooks)
          .set({ lastEventId: rows[rows.length - 1].e.id })
          .where(eq(webhooks.id, hook.id));
        return { read: rows.length, queued: n };
      });
      queued += batch.queued;
      if (batch.read < OLD_BATCH) break;
    }
  return queued;
}

/** The events: an apply's `apply.succeeded` of every node, and every 1,000th event a warning or a critical. */
async function storeEvents(db: Db): Promise<void> {
  const at = new Date();
  const rows = Array.from({ length: N }, (_, i) => {
    const loud = i % 1000 === 500;
    if (!loud) return { siteId: 'big', nodeId: `big.rs${i}`, type: 'apply.succeeded', data: { revision: 2 }, at };
    return i % 2000 === 500
      ? { siteId: 'big', nodeId: `big.dr1`, type: 'agent.degraded', data: { what: 'garp', detail: 'helper restarting' }, at }
      : { siteId: 'big', nodeId: null, type: 'service.down', data: { key: `service.down|service:web${i}`, severity: 'critical', summary: 'web down' }, at };
  });
  for (let i = 0; i < rows.length; i += 2000) await db.insert(events).values(rows.slice(i, i + 2000));
}

const WEBHOOKS: { id: string; what: string; minSeverity?: 'warning'; siteName?: string; eventTypes?: string[] }[] = [
  { id: 'min-warning', what: 'min severity warning', minSeverity: 'warning' },
  { id: 'other-site', what: 'site filter, another site', siteName: 'small' },
  { id: 'types', what: 'type list [service.down, node.offline]', eventTypes: ['service.down', 'node.offline'] },
  { id: 'everything', what: 'everything' },
];

/** The CPU a PostgreSQL backend has used, in ms, when its /proc entry is readable here (a server on this host). */
function backendCpuMs(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const pg = process.env.DATABASE_URL ? await freshPostgres(process.env.DATABASE_URL) : null;
  const database = await openDatabase({ url: pg?.url });
  // The walks on a client of one connection: every statement of theirs runs in the one backend
  // whose CPU is read (the migrations above need a pool of more than one: their lock takes one).
  const walker = await openBeside(database, { poolSize: 1, name: 'bench-webhook-walk' });
  const { db } = walker;
  try {
    await db.insert(orgs).values({ id: 'o', name: 'o' });
    await db.insert(sites).values([
      { id: 'big', orgId: 'o', name: 'big', currentRevision: 2 },
      { id: 'small', orgId: 'o', name: 'small', currentRevision: 1 },
    ]);
    await db.insert(webhooks).values(
      WEBHOOKS.map((h) => ({
        id: h.id,
        orgId: 'o',
        url: 'https://hooks.example.com/x',
        secret: 'whsec_x',
        minSeverity: h.minSeverity,
        siteName: h.siteName,
        eventTypes: h.eventTypes,
      })),
    );
    await storeEvents(db);
    await db.execute(sql`ANALYZE`);
    const pid = walker.pg ? (await walker.pg<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`)[0].pid : null;

    /** One round of `walk` for the webhook alone, from a cursor at 0: process CPU, wall and backend CPU in ms, and what it queued. */
    const measure = async (id: string, walk: (db: Db) => Promise<number>) => {
      await db.delete(webhookDeliveries);
      await db.update(webhooks).set({ lastEventId: 0, disabledAt: null }).where(eq(webhooks.id, id));
      await db.update(webhooks).set({ disabledAt: new Date() }).where(ne(webhooks.id, id));
      const b0 = backendCpuMs(pid);
      const c0 = cpuUsage();
      const t0 = performance.now();
      await walk(db);
      const wall = performance.now() - t0;
      const c = cpuUsage(c0);
      const b1 = backendCpuMs(pid);
      const queued = (await db.select({ e: webhookDeliveries.eventId }).from(webhookDeliveries).orderBy(webhookDeliveries.eventId)).map((r) => r.e);
      return { cpu: (c.user + c.system) / 1000, wall, backend: b0 === null || b1 === null ? null : b1 - b0, queued };
    };
    /** Median figures of R rounds after one not counted (caches, plans). */
    const series = async (id: string, walk: (db: Db) => Promise<number>) => {
      const first = await measure(id, walk);
      const runs = [];
      for (let i = 0; i < ROUNDS; i++) runs.push(await measure(id, walk));
      const backend = runs.every((r) => r.backend !== null) ? `, backend ${median(runs.map((r) => r.backend!)).toFixed(0)} ms` : '';
      return {
        text: `CPU ${median(runs.map((r) => r.cpu)).toFixed(1)} ms, wall ${median(runs.map((r) => r.wall)).toFixed(1)} ms${backend}`,
        queued: first.queued,
      };
    };

    const lines = [
      `bench:webhook-walk: ${N} events of one site (every 1,000th a warning or a critical), one webhook's round from cursor 0, ${pg ? 'PostgreSQL' : 'PGlite'}, Node ${process.version}; median of ${ROUNDS}`,
    ];
    for (const hook of WEBHOOKS) {
      const now = await series(hook.id, enqueueDeliveries);
      const before = await series(hook.id, oldEnqueueDeliveries);
      if (JSON.stringify(now.queued) !== JSON.stringify(before.queued))
        throw new Error(`${hook.id}: the walks queued different events (${now.queued.length} and ${before.queued.length})`);
      lines.push(`  ${hook.what} (${now.queued.length} queued): filtered in SQL ${now.text}; every row read, judged in JS ${before.text}`);
    }
    lines.push(
      `  load average: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log(lines.join('\n'));
  } finally {
    await walker.close();
    await database.close();
    await pg?.drop();
  }
}

await main();
