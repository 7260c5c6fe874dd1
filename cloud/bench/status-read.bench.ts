import { cpuUsage } from 'node:process';
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { and, desc, eq, getTableColumns, gte, inArray, sql } from 'drizzle-orm';
import { nodeIdOf, topics } from '#shared/wire/topics.ts';
import { createApp } from '../src/api/app.ts';
import { ensureBootstrapAdmin } from '../src/auth/tokens.ts';
import { compressed } from '../src/server/compressed.ts';
import { openDatabase, type Db } from '../src/db/client.ts';
import { events, rollouts, sites } from '../src/db/schema.ts';
import { classify } from '../src/ingest/decide.ts';
import { recordReports, type Report } from '../src/ingest/record.ts';
import { loadSigner } from '../src/keys/signing.ts';
import { tickRollouts } from '../src/rollout/driver.ts';
import type { Rollout } from '../src/rollout/plan.ts';
import { planSummary } from '../src/rollout/summary.ts';
import { ReportCache } from '../src/rollout/reports.ts';
import { listNodes, requireSite } from '../src/sites/queries.ts';
import { validatedStatus } from '../src/status/stored-reports.ts';
import { freshPostgres } from '../test/pg.test-support.ts';
import { bigSiteSpec, bigSiteStatus } from './big-site.ts';
import { median, numberArg } from './figures.ts';

/**
 * `npm run bench:status-read [-- --nodes N --rounds R]`: what reading a large site's status costs
 * the cloud while its nodes report (default 10,000 nodes, bench:publish's site), in-process through
 * the API on a fresh PostgreSQL database (DATABASE_URL) or PGlite. Every node's report is stored
 * (through ingest's `recordReports`, as the agents' heartbeats are), then, for each row, R reads
 * with nothing moved and R with a seventh of the nodes reporting again before each (the agents
 * report every 15 s; the alerter evaluates every 2 s). Prints the process's CPU per read, median,
 * for:
 * - `GET /v1/sites/{site}/status`, and the same gzipped as `serve` sends it (cloud/src/server/compressed.ts), beside the reports' read the route no longer makes (every node's
 *   stored report read whole and validated), measured in the same run;
 * - `GET /dashboard/fleet.json`, and again after a day of ten applies' events is stored (an
 *   `apply.succeeded` of every node for each), beside that day's events read whole, as the
 *   dashboard read them before it read each site's newest 20;
 * - `apply --wait`'s poll of a staged rollout of every node (the site applied again, every VIP
 *   moved): `GET /v1/sites/{site}/revisions/{n}/progress`, beside the two reads it made before (the
 *   site's status and its rollouts), measured in the same run;
 * - one tick of that rollout: the Node driver's, which keeps the reports between ticks
 *   (`ReportCache`), beside the Workers cron's, which reads them all at each tick;
 * - the dashboard's read of 20 ended rollouts of every node: `GET …/rollout` as they were kept
 *   before migration 0020 and after it; `GET …/rollouts?limit=6` on the stored summaries, beside
 *   the same counted at the read; fleet.json listing them, beside the two requests it replaced.
 * PostgreSQL's own work runs in its server and is not counted. No assertions on time.
 */
const N = numberArg('nodes', 10_000);
const ROUNDS = numberArg('rounds', 5);
const SITE = 'big';

const cpuMs = async (fn: () => Promise<unknown>) => {
  const c0 = cpuUsage();
  await fn();
  const d = cpuUsage(c0);
  return (d.user + d.system) / 1000;
};

type SpecNode = { name: string; role: string };
type BenchSpec = { spec: { nodes: SpecNode[] } };

/** `applies` applies' worth of `apply.succeeded` events of every node, spread over the last day; answers how many. */
async function storeAppliedEvents(db: Db, siteId: string, nodes: SpecNode[], applies: number): Promise<number> {
  const now = Date.now();
  const rows = [];
  for (let a = 0; a < applies; a++)
    for (const n of nodes)
      rows.push({
        siteId,
        nodeId: nodeIdOf(SITE, n.name),
        type: 'apply.succeeded',
        data: { revision: a + 1 },
        at: new Date(now - (applies - a) * 3_600_000),
        dedupeKey: `bench-${a}`,
      });
  for (let i = 0; i < rows.length; i += 2000) await db.insert(events).values(rows.slice(i, i + 2000));
  return rows.length;
}

/**
 * The dashboard's read of a site's rollouts, with 20 ended ones of every node: the rollout running
 * is aborted, and 19 copies of its whole plan stored as ended ones were before migration 0020.
 * Reads `GET …/rollout` (its 20, each with its node lists) as the dashboard read it, then again
 * once the migration's statement has dropped the driver's parts; then `GET …/rollouts?limit=6`
 * (counts, no names), which reads the summaries stored with the plans (migration 0021), beside the
 * same six counted from their plans at the read, as it did before; then the dashboard's refresh of
 * the site: `GET /dashboard/fleet.json`, which lists them now, beside fleet.json and `/rollouts?limit=6`,
 * the two requests it made before.
 */
async function rolloutHistoryRows(
  db: Db,
  siteId: string,
  app: { request(path: string, init: RequestInit): Response | Promise<Response> },
  auth: Record<string, string>,
  series: (op: () => Promise<unknown>) => Promise<string>,
  mb: (path: string) => Promise<string>,
): Promise<string[]> {
  const [running] = await db.select().from(rollouts).where(eq(rollouts.siteId, siteId)).orderBy(desc(rollouts.revision)).limit(1);
  const abort = await app.request(`/v1/sites/${SITE}/rollout/abort`, { method: 'POST', headers: auth });
  if (abort.status !== 200) throw new Error(`abort: HTTP ${abort.status} ${(await abort.text()).slice(0, 300)}`);
  const plan = running.plan as { state: string };
  await db.insert(rollouts).values(
    Array.from({ length: 19 }, (_, i) => ({
      ...running,
      id: undefined,
      revision: 1000 + i,
      state: 'completed' as const,
      plan: { ...plan, state: 'completed' },
      summary: planSummary(plan as unknown as Rollout),
      endedAt: new Date(),
    })),
  );
  const get = (path: string) => async () => {
    const res = await app.request(path, { headers: auth });
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
    return (await res.text()).length;
  };
  // On PostgreSQL the database's work (detoasting the plans, counting) is not the process's CPU: the wall time shows it.
  const wallMs = async (op: () => Promise<unknown>) => {
    await op();
    const runs: number[] = [];
    for (let i = 0; i < 2 * ROUNDS; i++) {
      const t0 = performance.now();
      await op();
      runs.push(performance.now() - t0);
    }
    return `${median(runs).toFixed(1)} ms (median of ${runs.length})`;
  };
  const history = `/v1/sites/${SITE}/rollout`;
  const summaries = `/v1/sites/${SITE}/rollouts?limit=6`;
  const out = [
    `  the dashboard's read of 20 ended rollouts of every node, GET ${history} (${await mb(history)}), as they were kept: ${await series(get(history))}`,
  ];
  await db.execute(sql.raw(readFileSync(new URL('../../migrations/0020_ended_rollouts_lean.sql', import.meta.url), 'utf8')));
  out.push(
    `    the same, kept without the driver's parts (migration 0020; ${await mb(history)}): ${await series(get(history))}`,
    `  GET ${summaries} (${((await get(summaries)()) / 1e3).toFixed(1)} KB), the summaries stored with the plans (migration 0021): ${await series(get(summaries))}; wall ${await wallMs(get(summaries))}`,
    `    beside it, the same six counted from their plans at the read (as before migration 0021): ${await series(() => countedSummaries(db, siteId, 6))}; wall ${await wallMs(() => countedSummaries(db, siteId, 6))}`,
    `  the dashboard's refresh of the site, GET /dashboard/fleet.json listing them: ${await series(get('/dashboard/fleet.json'))}`,
    `    beside it, fleet.json and GET ${summaries}, the two requests it made before: ${await series(async () => {
      await get('/dashboard/fleet.json')();
      await get(summaries)();
    })}`,
  );
  return out;
}

const { plan: _plan, summary: _summary, ...rowColumns } = getTableColumns(rollouts);

/** A site's newest rollouts as `rolloutSummaries` read them before migration 0021: each plan's lists counted by the database at the read. */
function countedSummaries(db: Db, siteId: string, limit: number) {
  return db
    .select({
      ...rowColumns,
      head: sql`${rollouts.plan} - 'nodes' - 'watched' - 'baseline' - 'stages' - 'released'`,
      stages: sql`coalesce((
        select jsonb_agg(jsonb_build_object('name', s.stage->'name', 'nodeCount', jsonb_array_length(s.stage->'nodes')) order by s.at)
        from jsonb_array_elements(${rollouts.plan}->'stages') with ordinality as s(stage, at)), '[]'::jsonb)`,
      releasedCount: sql<number>`jsonb_array_length(${rollouts.plan}->'released')`,
    })
    .from(rollouts)
    .where(eq(rollouts.siteId, siteId))
    .orderBy(desc(rollouts.revision))
    .limit(limit);
}

async function main(): Promise<void> {
  const pg = process.env.DATABASE_URL ? await freshPostgres(process.env.DATABASE_URL) : null;
  const db = await openDatabase({ url: pg?.url });
  try {
    const admin = await ensureBootstrapAdmin(db.db);
    const app = createApp({ db: db.db, kick: () => {}, signer: await loadSigner(db.db) });
    const auth = { authorization: `Bearer ${admin.secret}` };
    const put = async (vipBase: number) => {
      const res = await app.request(`/v1/sites/${SITE}/spec`, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(bigSiteSpec(SITE, N, { vipBase })),
      });
      if (res.status !== 200) throw new Error(`apply: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
      return (await res.json()) as { staged?: boolean; publishedNodes: string[] };
    };
    await put(10);
    const spec = bigSiteSpec(SITE, N) as BenchSpec;
    const [{ id: siteId }] = await db.db.select({ id: sites.id }).from(sites).where(eq(sites.name, SITE));
    /** Stores a report of each of `nodes`, through ingest's classification and batched store. */
    const report = async (nodes: SpecNode[]) => {
      const at = new Date().toISOString();
      for (let i = 0; i < nodes.length; i += 500) {
        const batch = nodes.slice(i, i + 500).map((n): Report => {
          const payload = Buffer.from(bigSiteStatus(SITE, spec, n, at));
          const msg = classify(topics.status(nodeIdOf(SITE, n.name)), payload);
          if (msg.kind !== 'status') throw new Error(`${n.name}: ${JSON.stringify(msg)}`);
          return { siteId, msg, payload };
        });
        await recordReports(db.db, batch, new Date());
      }
    };
    let round = 0;
    /** A seventh of the nodes, a different seventh each round. */
    const someReport = () => report(spec.spec.nodes.filter((_, j) => (j + ++round) % 7 === 0));
    await report(spec.spec.nodes);

    /** Median CPU of `op`, R times as it is and R times with a seventh of the reports moved before each. */
    const series = async (op: () => Promise<unknown>) => {
      await op(); // the first read fills the caches; not counted
      const same: number[] = [];
      const moved: number[] = [];
      for (let i = 0; i < ROUNDS; i++) same.push(await cpuMs(op));
      for (let i = 0; i < ROUNDS; i++) {
        await someReport();
        moved.push(await cpuMs(op));
      }
      return `nothing moved ${median(same).toFixed(1)} ms, a seventh moved ${median(moved).toFixed(1)} ms`;
    };
    const get = (path: string) => async () => {
      const res = await app.request(path, { headers: auth });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
      return text.length;
    };
    /** The same read through `serve`'s compression, to a client that takes gzip: the bytes on the wire. */
    const served = compressed(app);
    const getGzipped = (path: string) => async () => {
      const res = await served(new Request(`http://bench${path}`, { headers: { ...auth, 'accept-encoding': 'gzip' } }));
      const bytes = (await res.arrayBuffer()).byteLength;
      if (res.status !== 200 || res.headers.get('content-encoding') !== 'gzip')
        throw new Error(`${path}: HTTP ${res.status}, ${res.headers.get('content-encoding')}`);
      return bytes;
    };
    const row = await requireSite(db.db, 'default', SITE);
    const lines = [
      `bench:status-read: one site of ${N} nodes, every node reporting, ${pg ? 'PostgreSQL (its own CPU not counted)' : 'PGlite'}, Node ${process.version}; process CPU per read, median of ${ROUNDS}`,
      `  GET /v1/sites/${SITE}/status (${((await get(`/v1/sites/${SITE}/status`)()) / 1e6).toFixed(1)} MB): ${await series(get(`/v1/sites/${SITE}/status`))}`,
      `    the same, gzipped as \`serve\` sends it (${((await getGzipped(`/v1/sites/${SITE}/status`)()) / 1e3).toFixed(0)} KB): ${await series(getGzipped(`/v1/sites/${SITE}/status`))}`,
      `    beside it, every node's report read whole and validated (what the route read before it took the status book's): ${await series(async () => {
        for (const n of await listNodes(db.db, row)) validatedStatus(n.nodeId, n.online, n.status);
      })}`,
      `  GET /dashboard/fleet.json: ${await series(get('/dashboard/fleet.json'))}`,
    ];
    const dayOfEvents = await storeAppliedEvents(db.db, siteId, spec.spec.nodes, 10);
    lines.push(
      `  GET /dashboard/fleet.json with a day of ten applies' events (${dayOfEvents}): ${await series(get('/dashboard/fleet.json'))}`,
      `    beside it, that day's events read whole (what the dashboard read for its 20 newest): ${await series(() =>
        db.db
          .select()
          .from(events)
          .where(and(inArray(events.siteId, [siteId]), gte(events.at, new Date(Date.now() - 86_400_000))))
          .orderBy(desc(events.at), desc(events.id)),
      )}`,
    );
    const staged = await put(50);
    if (!staged.staged || staged.publishedNodes.length !== N) throw new Error(`the second apply is not a staged rollout of every node`);
    const progress = `/v1/sites/${SITE}/revisions/2/progress`;
    const mb = async (path: string) => `${((await get(path)()) / 1e6).toFixed(2)} MB`;
    lines.push(
      `  apply --wait's poll, GET ${progress} (${await mb(progress)}): ${await series(get(progress))}`,
      `    beside it, the two reads it made before, GET /v1/sites/${SITE}/status and /rollout (${await mb(`/v1/sites/${SITE}/rollout`)}): ${await series(
        async () => {
          await get(`/v1/sites/${SITE}/status`)();
          await get(`/v1/sites/${SITE}/rollout`)();
        },
      )}`,
    );
    const cache = new ReportCache();
    const quiet = () => {};
    lines.push(
      `  a staged rollout's tick, the Node driver's (reports kept between ticks): ${await series(() => tickRollouts(db.db, quiet, quiet, cache))}`,
      `    beside it, the Workers cron's tick (every report read at each): ${await series(() => tickRollouts(db.db, quiet, quiet))}`,
    );
    lines.push(...(await rolloutHistoryRows(db.db, siteId, app, auth, series, mb)));
    lines.push(
      `  load average: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log(lines.join('\n'));
  } finally {
    await db.close();
    await pg?.drop();
  }
}

await main();
