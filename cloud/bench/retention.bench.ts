import { loadavg } from 'node:os';
import { sql } from 'drizzle-orm';
import { openDatabase, type Db } from '../src/db/client.ts';
import { rowsOf } from '../src/db/rows.ts';
import { events, orgs, sites } from '../src/db/schema.ts';
import { becameMasterCounts } from '../src/metrics/fleet-facts.ts';
import { pruneEvents, retentionRound } from '../src/retention/prune.ts';
import { freshPostgres } from '../test/pg.test-support.ts';
import { median, numberArg } from './figures.ts';

/**
 * `npm run bench:retention [-- --events N]`: what event retention costs, on a fresh PostgreSQL
 * database (DATABASE_URL) or PGlite. Stores N events (default 200,000: a 10,000-node site's twenty
 * applies, a transition to MASTER every 500th), half of them older than the retention, then prints
 * wall time per statement, median and max:
 * - a round with nothing old enough, beside `SELECT 1` (the floor of any round);
 * - deleting the old half 5,000 at a time: the first half of it through `pruneEvents` (the tally
 *   of transitions to MASTER in the same statement), the second half through the same DELETE without
 *   the tally, measured in the same run.
 * It fails if the metrics' count of transitions to MASTER moved with the tallied deletes. No assertions on time.
 */
const N = numberArg('events', 200_000);
const BATCH = 5_000;
const DAY = 86_400_000;

async function wall(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const figures = (xs: number[]) => `median ${median(xs).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms (${xs.length})`;

async function store(db: Db, now: number): Promise<void> {
  const rows = [];
  for (let i = 0; i < N; i++) {
    // The first half 40-60 days old, the second within the last 20 days, oldest first as they come.
    const age = i < N / 2 ? 60 * DAY - (i / (N / 2)) * 20 * DAY : 20 * DAY - ((i - N / 2) / (N / 2)) * 20 * DAY;
    const at = new Date(now - age);
    rows.push(
      i % 500 === 0
        ? {
            siteId: 's',
            nodeId: 'big.d1',
            type: 'vrrp.transition',
            data: { instance: `VI_${i % 3}`, from: 'BACKUP', to: 'MASTER', reason: 'bench' },
            at,
            receivedAt: at,
          }
        : { siteId: 's', nodeId: `big.n${i % 10_000}`, type: 'apply.succeeded', data: { revision: 1 + Math.floor(i / 10_000) }, at, receivedAt: at },
    );
  }
  for (let i = 0; i < rows.length; i += 2000) await db.insert(events).values(rows.slice(i, i + 2000));
}

/** The same DELETE as `pruneEvents`, without the tally: the floor of a batch. */
async function bareDelete(db: Db, before: Date): Promise<number> {
  const answer = await db.execute(sql`
    WITH gone AS (DELETE FROM events WHERE id IN (SELECT id FROM events WHERE received_at < ${before.toISOString()}::timestamptz ORDER BY received_at LIMIT ${BATCH}::integer) RETURNING 1)
    SELECT count(*)::int AS n FROM gone`);
  return rowsOf<{ n: number }>(answer)[0]?.n ?? 0;
}

async function main(): Promise<void> {
  const pg = process.env.DATABASE_URL ? await freshPostgres(process.env.DATABASE_URL) : null;
  const db = await openDatabase({ url: pg?.url });
  try {
    const now = Date.now();
    await db.db.insert(orgs).values({ id: 'o', name: 'o' });
    await db.db.insert(sites).values({ id: 's', orgId: 'o', name: 'big', currentRevision: 1 });
    await store(db.db, now);
    if (pg) await db.db.execute(sql`ANALYZE events`);
    const counted = async () => JSON.stringify((await becameMasterCounts(db.db)).sort((a, b) => a.instance.localeCompare(b.instance)));
    const before = await counted();

    const idle: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < 9; i++) {
      idle.push(await wall(() => retentionRound(db.db, { days: 90, now, maxBatches: 20 })));
      floor.push(await wall(() => db.db.execute(sql`SELECT 1`)));
    }

    const horizon = { before: new Date(now - 30 * DAY), throughId: null };
    const old = N / 2;
    const tallied: number[] = [];
    const bare: number[] = [];
    let deleted = 0;
    while (deleted < old / 2) {
      let n = 0;
      tallied.push(await wall(async () => (n = await pruneEvents(db.db, horizon, BATCH))));
      deleted += n;
    }
    const afterTallied = await counted();
    if (afterTallied !== before) throw new Error(`the count of transitions to MASTER moved: ${before} before, ${afterTallied} after`);
    for (;;) {
      let n = 0;
      const ms = await wall(async () => (n = await bareDelete(db.db, horizon.before)));
      if (!n) break;
      bare.push(ms);
      deleted += n;
    }
    const [{ left }] = rowsOf<{ left: number }>(await db.db.execute(sql`SELECT count(*)::int AS left FROM events`));
    if (deleted !== old || left !== N - old) throw new Error(`deleted ${deleted} of ${old} old events, ${left} left of ${N - old}`);

    console.log(
      [
        `bench:retention: ${N} events, ${old} older than the retention, ${pg ? 'PostgreSQL' : 'PGlite'}, Node ${process.version}; wall time per statement`,
        `  a round with nothing old enough (3 reads and 2 deletes of nothing): ${figures(idle)}`,
        `    beside it, SELECT 1: ${figures(floor)}`,
        `  deleting ${BATCH} events with the tally of transitions to MASTER (pruneEvents): ${figures(tallied)}`,
        `    beside it, the same DELETE without the tally: ${figures(bare)}`,
        `  the metrics' count of transitions to MASTER, the same before and after the tallied deletes: ${before}`,
        `  load average: ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}`,
      ].join('\n'),
    );
  } finally {
    await db.close();
    await pg?.drop();
  }
}

await main();
