/**
 * `DATABASE_URL=postgres://… npm run bench:cloud-memory`: the cloud process alone at issue 15's
 * scale. `lvsfleet serve` runs in its own process (the pre-built bundle, npm start's environment)
 * on a fresh PostgreSQL database, once with an external broker (MQTT_URL's, else a Mosquitto the
 * bench starts with infra/mosquitto's queue limits, as production's) and once with its embedded aedes broker, which then holds every
 * retained document. Through its HTTP API: a 10,000-node site applied (every node new), then 100
 * sites of 100 nodes applied at once, then the 10,000-node site with every VIP moved. For each: the time from the request to every outbox row
 * published (acknowledged by the broker), read from the database, and the serve process's CPU.
 * Its memory is read from /proc while it works (RSS every 100 ms, and the kernel's peak, VmHWM),
 * beside its own RSS idle before any site, `node -e 0`, and the load average. Nothing else runs in
 * the measured process: not the bench's client, database or subscribers (bench:publish's scale rows
 * hold all of those in one process). No assertions on time; it fails if a site is refused or a row
 * is not published within 4 minutes. The documents retained on the external broker are cleared.
 * With the external broker, the 10,000-node site's nodes then report: every node's status once at
 * the same moment (as after a cloud or broker restart), then the agents' heartbeat rate (each node
 * every 15 s) for 30 s. Printed: how long the cloud took to store the burst, how many of the
 * heartbeats it stored within the 30 s and after, its CPU, and one read of the site's status
 * through the API (every report in it) once the reports are stored. Last, the serve process's CPU
 * over 10 s of idling with all of those sites (alerting rounds, the publisher's poll).
 * `--db-delay MS`: serve reaches its database through a relay that holds every chunk MS ms each way
 * (delayed-link.ts), as a managed database one network hop away.
 * BENCH_SERVE_PROF=DIR: each serve process runs under `--cpu-prof` and writes its profile to DIR
 * when it stops (summarise with cloud/bench/cpu-profile.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import postgres from 'postgres';
import { nodeIdOf, topics } from '#shared/wire/topics.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { freePorts } from '../test/net.test-support.ts';
import { infraBrokerLimits, OwnMosquitto } from '../test/mosquitto.test-support.ts';
import { freshPostgres } from '../test/pg.test-support.ts';
import { dbDelayArg, delayedUrl } from './delayed-link.ts';
import { bigSiteSpec, bigSiteStatus } from './big-site.ts';
import { cpuMs, procKb, START_ENV } from './serve-process.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'bin/lvsfleet.mjs');
const BIG = 10_000;
const SITES = 100;
/** The idle window measured after both rows: five alerting rounds. */
const IDLE_MS = 10_000;
/** --db-delay MS: serve's database one network hop away (./delayed-link.ts), MS ms each way. */
const DB_DELAY = dbDelayArg(process.argv);
/** The external broker: MQTT_URL's, else a Mosquitto the bench starts with infra/mosquitto's queue limits (main). */
let MQTT_URL = process.env.MQTT_URL ?? '';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** `node -e 0`'s RSS at exit: what any Node process costs here. */
function bareNodeKb(): number {
  const out = spawnSync(process.execPath, ['-e', "process.on('exit', () => console.log(process.memoryUsage().rss))"], { encoding: 'utf8' }).stdout;
  return Number(out.trim()) / 1024;
}

interface Row {
  what: string;
  requestMs: number;
  publishedMs: number;
  cpuMs: number;
  /** Highest RSS sampled during this row (every 100 ms). */
  rssMaxKb: number;
}

async function measure(label: string, external: boolean, token: string): Promise<void> {
  const pg = await freshPostgres(process.env.DATABASE_URL!);
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  // --db-delay: serve reaches its database through the relay; the bench's own reads do not.
  const link = DB_DELAY ? await delayedUrl(pg.url, DB_DELAY) : null;
  const dataDir = mkdtempSync(join(tmpdir(), 'lvsfleet-bench-mem-'));
  const [port, mqttPort] = await freePorts(2);
  const prof = process.env.BENCH_SERVE_PROF;
  const args = [
    ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []),
    CLI,
    'serve',
    '--port',
    String(port),
    '--data-dir',
    dataDir,
    '--database-url',
    link?.url ?? pg.url,
  ];
  args.push(...(external ? ['--mqtt-url', MQTT_URL] : ['--mqtt-port', String(mqttPort)]));
  let proc: ChildProcess | null = spawn(process.execPath, args, {
    env: { ...process.env, ...START_ENV, LVSFLEET_ADMIN_TOKEN: token },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  const pid = proc.pid!;
  const nodeIds: string[] = [];
  try {
    await waitFor(
      async () => {
        if (proc!.exitCode !== null) throw new Error(`serve exited ${proc!.exitCode}: ${stderr}`);
        return (await fetch(`${url}/healthz`).catch(() => null))?.ok;
      },
      { what: '/healthz', timeoutMs: 120_000, intervalMs: 50 },
    );
    await sleep(5000);
    const idleKb = procKb(pid, 'VmRSS');
    let rowMax = 0;
    const sampler = setInterval(() => {
      try {
        rowMax = Math.max(rowMax, procKb(pid, 'VmRSS'));
      } catch {
        // the process is gone; the row fails on its own
      }
    }, 100);
    /** Applies `site` of `n` nodes; `again`: its second apply, every VIP moved (revision 2). */
    const put = async (site: string, n: number, again: boolean) => {
      const spec = bigSiteSpec(site, n, { vipBase: again ? 20 : 10 });
      // The second apply goes to every node at once, as bench:publish's row: with the nodes'
      // reports stored (the reports above), the paired directors would otherwise stage it.
      if (again) (spec as { spec: Record<string, unknown> }).spec.rollout = { enabled: false };
      const res = await fetch(`${url}/v1/sites/${site}/spec`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(spec),
      });
      if (res.status !== 200) throw new Error(`${site}: ${res.status} ${(await res.text()).slice(0, 300)}\n${stderr}`);
      if (!again) nodeIds.push(...(spec as { spec: { nodes: { name: string }[] } }).spec.nodes.map((x) => nodeIdOf(site, x.name)));
    };
    /** Until `want` rows of `revision` of `sites` are published and none of theirs is open. */
    const published = (sites: string[], want: number, revision: number) =>
      waitFor(
        async () => {
          const [r] = await sql<{ n: number; open: number }[]>`
          SELECT count(*) FILTER (WHERE o.status = 'published' AND o.revision = ${revision})::int AS n, count(*) FILTER (WHERE o.status IN ('pending', 'failed'))::int AS open
          FROM outbox o JOIN sites s ON s.id = o.site_id WHERE s.name IN ${sql(sites)}`;
          return r.n >= want && r.open === 0;
        },
        { what: `${want} documents published`, timeoutMs: 240_000, intervalMs: 50 },
      );
    const rows: Row[] = [];
    const row = async (what: string, sites: string[], n: number, again = false) => {
      rowMax = procKb(pid, 'VmRSS');
      const c0 = cpuMs(pid);
      const t0 = performance.now();
      await Promise.all(sites.map((s) => put(s, n, again)));
      const requestMs = performance.now() - t0;
      await published(sites, sites.length * n, again ? 2 : 1);
      rows.push({ what, requestMs, publishedMs: performance.now() - t0, cpuMs: cpuMs(pid) - c0, rssMaxKb: rowMax });
    };
    const run = randomBytes(3).toString('hex');
    await row(`one ${BIG.toLocaleString('en')}-node site, every node new`, [`big-${run}`], BIG);
    const reportsLine = external ? await reports(`big-${run}`, url, token, pid, sql) : null;
    await row(
      `${SITES} sites × ${BIG / SITES} nodes at once`,
      Array.from({ length: SITES }, (_, i) => `s${i + 1}-${run}`),
      BIG / SITES,
    );
    // bench:publish's last scale row: the 10,000-node site's second apply, every VIP moved, so every
    // node's document is new (its rows updated, not created).
    await row(`the ${BIG.toLocaleString('en')}-node site, every VIP moved (its second apply)`, [`big-${run}`], BIG, true);
    clearInterval(sampler);
    await sleep(5000);
    const afterKb = procKb(pid, 'VmRSS');
    const peakKb = procKb(pid, 'VmHWM');
    // What holding these sites costs while nobody applies: the alerting rounds (every site's status every 2 s), the publisher's poll.
    const idleC0 = cpuMs(pid);
    await sleep(IDLE_MS);
    const idleCpu = cpuMs(pid) - idleC0;
    console.log(`[${label}] serve idle before any site: RSS ${mib(idleKb)}`);
    for (const r of rows)
      console.log(
        `[${label}] ${r.what}: request ${r.requestMs.toFixed(0)} ms, all published ${r.publishedMs.toFixed(0)} ms, serve CPU ${r.cpuMs.toFixed(0)} ms, RSS up to ${mib(r.rssMaxKb)} (sampled)`,
      );
    if (reportsLine) console.log(`[${label}] ${reportsLine}`);
    console.log(
      `[${label}] after all three, 5 s idle: RSS ${mib(afterKb)}; the process's peak (VmHWM) ${mib(peakKb)}; then serve CPU over ${IDLE_MS / 1000} s idle ${idleCpu.toFixed(0)} ms (${((idleCpu / IDLE_MS) * 100).toFixed(1)} % of a core); load average ${load()}`,
    );
  } finally {
    const p = proc;
    proc = null;
    if (p && p.exitCode === null) {
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await gone;
    }
    if (external && nodeIds.length) await clearRetained(nodeIds);
    await sql.end({ timeout: 5 });
    await link?.close();
    await pg.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The site's nodes report through the external broker (the topic names the node; anonymous
 * publishing is the bench's broker's rule, not production's): a burst of one report per node,
 * then 30 s at the heartbeat rate. Answers the line to print.
 */
async function reports(site: string, url: string, token: string, pid: number, sql: postgres.Sql): Promise<string> {
  const spec = bigSiteSpec(site, BIG);
  const list = (spec as { spec: { nodes: { name: string; role: string; address: string }[] } }).spec.nodes;
  const c = await mqtt.connectAsync(MQTT_URL, { clientId: `bench-reports-${process.pid}`, reconnectPeriod: 0 });
  const stored = async (since: Date) => {
    const [r] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM node_status st JOIN nodes n ON n.id = st.node_id JOIN sites s ON s.id = n.site_id
      WHERE s.name = ${site} AND st.updated_at >= ${since}`;
    return r.n;
  };
  const send = (nodes: typeof list) =>
    Promise.all(nodes.map((n) => c.publishAsync(topics.status(nodeIdOf(site, n.name)), bigSiteStatus(site, spec, n), { qos: 1 })));
  try {
    // The database's clock for "stored since": the bench's and the server's may differ by milliseconds.
    const [{ t: burstAt }] = await sql<{ t: Date }[]>`SELECT now() AS t`;
    let c0 = cpuMs(pid);
    const t0 = performance.now();
    for (let i = 0; i < list.length; i += 1000) await send(list.slice(i, i + 1000));
    const sentMs = performance.now() - t0;
    // Until every report is stored or none more comes for 3 s: a broker drops QoS 1 messages queued
    // past its limit for a subscriber that falls behind (Mosquitto's max_queued_messages, 1,000 by
    // default), so how many were stored, and how fast, is the answer.
    let burstStored = 0;
    let lastGrowth = performance.now();
    while (burstStored < BIG && performance.now() - lastGrowth < 3_000) {
      await sleep(200);
      const n = await stored(burstAt);
      if (n > burstStored) [burstStored, lastGrowth] = [n, performance.now()];
    }
    const burstMs = lastGrowth - t0;
    const burstCpu = cpuMs(pid) - c0;
    // The heartbeat: every node once per 15 s, sent in slices every 100 ms, for two rounds. Each
    // report carries its send time (`at`), so the second round is stored once every node's stored
    // report is from it: the time that takes after the last send is the backlog ingest had left.
    const HEARTBEAT_MS = 15_000;
    const ROUNDS = 2;
    const per = BIG / (HEARTBEAT_MS / 100);
    c0 = cpuMs(pid);
    const b0 = performance.now();
    let secondRound = '';
    for (let tick = 0; tick < (ROUNDS * HEARTBEAT_MS) / 100; tick++) {
      if (tick === HEARTBEAT_MS / 100) secondRound = new Date().toISOString();
      // Whole indices from the fractional rate: every node exactly once per round.
      const from = Math.floor(tick * per) % BIG;
      await send(list.slice(from, from + Math.floor((tick + 1) * per) - Math.floor(tick * per)));
      const due = b0 + (tick + 1) * 100;
      if (performance.now() < due) await sleep(due - performance.now());
    }
    const wallMs = performance.now() - b0;
    const beatCpu = cpuMs(pid) - c0;
    const current = async () => {
      const [r] = await sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM node_status st JOIN nodes n ON n.id = st.node_id JOIN sites s ON s.id = n.site_id
        WHERE s.name = ${site} AND st.status->>'at' >= ${secondRound}`;
      return r.n;
    };
    const atEnd = await current();
    // A broker drops QoS 1 messages queued past its limit for a subscriber that falls behind
    // (Mosquitto: max_queued_messages), so some may never come: how many did is the answer then.
    const all = await waitFor(async () => (await current()) >= BIG, { what: 'the last heartbeats stored', timeoutMs: 120_000, intervalMs: 200 }).catch(
      () => false,
    );
    const drainedMs = performance.now() - b0 - wallMs;
    const after = all
      ? `all ${drainedMs.toFixed(0)} ms after`
      : `${await current()} within ${drainedMs.toFixed(0)} ms after (the rest never: dropped or still queued)`;
    const a0 = performance.now();
    const res = await fetch(`${url}/v1/sites/${site}/status`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { state?: string; status?: { state?: string } };
    const apiMs = performance.now() - a0;
    if (res.status !== 200) throw new Error(`status of ${site}: ${res.status}`);
    return (
      `reports: a burst of ${BIG} sent in ${sentMs.toFixed(0)} ms: ${burstStored} stored in ${burstMs.toFixed(0)} ms (${((burstStored / burstMs) * 1000).toFixed(0)}/s), serve CPU ${burstCpu.toFixed(0)} ms; ` +
      `heartbeats at ${(BIG / (HEARTBEAT_MS / 1000)).toFixed(0)}/s for ${(wallMs / 1000).toFixed(1)} s: at the last send ${atEnd} of the ${BIG} last ` +
      `reports stored, ${after}; serve CPU ${((beatCpu / wallMs) * 100).toFixed(0)} % of a core while sending; ` +
      `GET the site's status ${apiMs.toFixed(0)} ms (${body.status?.state ?? body.state ?? '?'})`
    );
  } finally {
    await c.endAsync();
  }
}

/** The documents this run left retained on the shared broker, cleared (an empty retained message). */
async function clearRetained(nodeIds: string[]): Promise<void> {
  const c = await mqtt.connectAsync(MQTT_URL, { clientId: `bench-clear-${process.pid}`, reconnectPeriod: 0 });
  try {
    for (let i = 0; i < nodeIds.length; i += 500)
      await Promise.all(nodeIds.slice(i, i + 500).map((n) => c.publishAsync(topics.desired(n), '', { qos: 1, retain: true })));
  } finally {
    await c.endAsync();
  }
}

async function main(): Promise<void> {
  if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL must name a PostgreSQL server (a fresh database is made on it and dropped)');
  const built = spawnSync(process.execPath, [join(ROOT, 'cloud/build.mjs')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`cloud/build.mjs: ${built.stderr}`);
  const token = `lvs_admin_${randomBytes(16).toString('hex')}`;
  console.log(
    `bench:cloud-memory: lvsfleet serve alone (bundle, env ${JSON.stringify(START_ENV)}), PostgreSQL${DB_DELAY ? ` ${DB_DELAY} ms away each way` : ''}; node -e 0: RSS ${mib(bareNodeKb())}; load average ${load()}`,
  );
  const own = MQTT_URL ? null : await OwnMosquitto.create(() => `allow_anonymous true\n${infraBrokerLimits()}`);
  try {
    if (own) {
      await own.start();
      MQTT_URL = own.url;
    }
    await measure(`external broker ${own ? `${MQTT_URL}, our own Mosquitto with infra/mosquitto's queue limits` : MQTT_URL}`, true, token);
  } finally {
    await own?.dispose();
  }
  await measure('embedded aedes', false, token);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench:cloud-memory failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
