/**
 * npm run bench:publish — apply a site of 1,000 nodes through the API and time how long each
 * node's document takes from the start of the apply request to its receipt by that node's
 * subscriber, 1,000 subscribers living in a second process (a receipt is timed on arrival; the
 * signatures are checked once every expected node has its document, before the row is reported:
 * subscribers.ts says why). Run on the embedded aedes and on a
 * Mosquitto this benchmark starts itself (own port, anonymous, no persistence), stopped by PID.
 *
 * Each broker's run starts with the FLOOR: a bare mqtt.js client publishes the same 1,000
 * documents, compiled and signed beforehand, retained QoS 1, to the same subscribers; lvsfleet's
 * figures follow with their ratio to it. Rows: every node new, every VIP moved (every node
 * changed; the process's second apply), every VIP moved again after a few untimed applies (the
 * code compiled and the pooled connections' statements prepared, as in a cloud that has been up a
 * while), and one real server's weight changed (only the directors may get a document; any
 * other receipt is counted and fails the run). Prints p50/p99/max and the cloud process's RSS.
 * Then the subscribers leave and a real agent per node takes over (../../agent/bench/fleet-agents.ts:
 * the agent's broker link, verified intake and cache, engine on the dry-run dataplane, one process
 * per core by default, agent-fleet.ts): every VIP moved → every agent applied, and the one-real-server change → the two
 * directors' agents applied (any other agent applying a document fails the run), with the agents' processes' RSS.
 *
 * --quick: 100 nodes, for CI; fails only on errors (wrong, missing or extra documents), never on time.
 * --scale: after each broker's rows, the scale rows on a new database: a 10,000-node site (its
 * floor first), then 100 sites of 100 nodes applied at once, then the 10,000-node site with every
 * VIP moved; subscribers share one client per 50 nodes.
 * --scale-only: those scale rows alone, on aedes then Mosquitto (none of the 1,000-node or Workers rows).
 * --postgres (needs DATABASE_URL): the Node rows (aedes, Mosquitto, the scale rows) each on a fresh
 * PostgreSQL database, dropped at the end, instead of PGlite in this process: the database a hosted
 * cloud runs on, and RSS figures of the cloud without an embedded database. The Workers row too:
 * each of its invocations connects to that database, as a Worker does without Hyperdrive.
 * DATABASE_URL with --scale-only does the same for the scale rows (as before).
 * --db-delay MS (with --postgres): the database reached through a relay that holds every chunk MS
 * ms each way (delayed-link.ts), as a managed database one network hop away.
 * --cpu-prof=DIR: aedes only; CPU profiles of the apply and of the drain of the every-VIP-moved
 * round (with --scale, of the 100 sites' row instead), written to DIR and summarised by self time
 * per area (cpu-profile.ts).
 * Workers row: the same rows with the Workers entry as the cloud, under wrangler dev (workers-cloud.ts),
 * on its own aedes and database, printed between the Node rows (in --quick too: it adds 25–45 s).
 * --agents-fs ext4 (root): each row's agents keep their state on a journaled ext4 of the row's own
 * (journaled-fs.ts says why: without a journal, ext4's inode allocator makes every agent's file
 * creations pay for the others' saves and for the files the row before removed).
 * --webcrypto-signing: the Node rows sign with WebCrypto's Ed25519 (as Workers do) instead of Node's
 * own call (as `lvsfleet serve` does), for a before-and-after of that choice by turns.
 * Ends by itself (hard limit 8 minutes, 3 with --quick, 22 with --scale).
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { compileSite } from '#shared/compiler/compile.ts';
import { validateSite } from '#shared/site/validate.ts';
import { plural } from '#shared/util/plural.ts';
import { nodeIdOf, topics } from '#shared/wire/topics.ts';
import { createApp } from '../src/api/app.ts';
import { ensureBootstrapAdmin } from '../src/auth/tokens.ts';
import { openBeside, openDatabase } from '../src/db/client.ts';
import { loadSigner, type Signer } from '../src/keys/signing.ts';
import { nodeEd25519 } from '../src/keys/ed25519-node.ts';
import { startEmbeddedBroker } from '../src/mqtt/broker.ts';
import { startPublisher } from '../src/publisher/publisher.ts';
import { MOSQUITTO_BIN, OwnMosquitto } from '../test/mosquitto.test-support.ts';
import { freshPostgres } from '../test/pg.test-support.ts';
import { agentFleet, type RoundCost } from './agent-fleet.ts';
import { bigSiteSpec } from './big-site.ts';
import { dbDelayArg, delayedUrl } from './delayed-link.ts';
import { journaledExt4, type JournaledFs } from './journaled-fs.ts';
import { profiled } from './profiled.ts';
import { startWorkersCloud, type BenchCloud } from './workers-cloud.ts';

const QUICK = process.argv.includes('--quick');
/**
 * The sites' checks warm up over an hour: the agents' directors run their health checker as on a
 * host (../../agent/bench/silent-checker.ts), and none of its probes is to be scheduled while the
 * rows time. The same sites in every row and in the floors' documents, so the one-real-server change
 * changes one weight only.
 */
const CHECK_WARMUP = '1h';
/** The Node rows' Ed25519 call: Node's own, as `lvsfleet serve` signs, unless --webcrypto-signing. */
const ED25519 = process.argv.includes('--webcrypto-signing') ? undefined : nodeEd25519();
const PROF_DIR = process.argv.find((a) => a.startsWith('--cpu-prof='))?.slice('--cpu-prof='.length);
const N = QUICK ? 100 : Number(process.env.BENCH_NODES ?? 1000);
const ONE_RS_ROUNDS = QUICK ? 3 : 10;
/** Untimed every-node applies before the warm row. */
const WARM_APPLIES = QUICK ? 1 : 5;
/** --scale-only: the scale rows alone, on both brokers (no 1,000-node rows, no Workers row). */
const SCALE_ONLY = process.argv.includes('--scale-only');
const SCALE = SCALE_ONLY || process.argv.includes('--scale');
/** --postgres: the Node rows on PostgreSQL (DATABASE_URL), not PGlite. */
const ON_POSTGRES = process.argv.includes('--postgres');
if (ON_POSTGRES && !process.env.DATABASE_URL) throw new Error('--postgres: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres)');
const DB_DELAY = dbDelayArg(process.argv);
if (DB_DELAY && !ON_POSTGRES && !SCALE_ONLY) throw new Error('--db-delay: the delay is put in front of PostgreSQL; add --postgres');
const SITE = 'bench';
/**
 * --agent-procs K: the agents' processes (default: one per core), nodes dealt round-robin
 * (agent-fleet.ts). 1 puts every agent in one process, as the bench did before.
 */
const agentProcsAt = process.argv.indexOf('--agent-procs');
const AGENT_PROCS = agentProcsAt > 0 ? Math.max(1, Math.floor(Number(process.argv[agentProcsAt + 1])) || 1) : availableParallelism();
/**
 * --agents-fs ext4: each row's agents keep their state on a journaled ext4 of the row's own
 * (journaled-fs.ts; root); else under BENCH_AGENTS_DIR, or the system's temporary directory.
 */
const agentsFsAt = process.argv.indexOf('--agents-fs');
const AGENTS_FS = agentsFsAt > 0 ? process.argv[agentsFsAt + 1] : null;
if (AGENTS_FS !== null && AGENTS_FS !== 'ext4') throw new Error(`--agents-fs: "${AGENTS_FS}" is not ext4, the one file system it makes`);
/** The agents' file system of the row this process runs (--agents-fs ext4), unmounted at its end or at the hard limit. */
let agentsFs: JournaledFs | null = null;
/** Where the agents' state directories go, as the rows print it. */
const agentsState = () =>
  AGENTS_FS ? 'state on a journaled ext4 of this row' : `state under ${process.env.BENCH_AGENTS_DIR ?? `${tmpdir()} (the system's temporary directory)`}`;
/** libuv's thread pool of each agents' process (BENCH_AGENT_POOL to try another). */
const AGENT_POOL = process.env.BENCH_AGENT_POOL ?? '16';
const DIRECTORS = ['dr1', 'dr2'].map((n) => nodeIdOf(SITE, n));
const hardStop = setTimeout(
  () => {
    console.error(`bench:publish${ROW ? ` (${ROW} row)` : ''}: hard time limit reached, stopping`);
    // Its own children (subscribers, agents) end when it does (their 'disconnect').
    rowChild?.kill('SIGTERM');
    agentsFs?.close();
    process.exit(1);
  },
  QUICK ? 180_000 : SCALE ? 1_320_000 : 480_000,
);
hardStop.unref();

/** `took` (agents only): the agent's own time from the payload to applied. */
type Receipt = [string, { at: number; ok: boolean; detail?: string; took?: number }];

const now = () => performance.timeOrigin + performance.now();
const ms = (x: number) => x.toFixed(0);
const mib = (b: number) => (b / 1048576).toFixed(0);
/** A ratio to the floor: one decimal below 10 (a one-real-server row is near the floor, and "0×" or "1×" hid it). */
const times = (x: number) => x.toFixed(x < 10 ? 1 : 0);
function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
function stats(values: number[]): { p50: number; p99: number; max: number; text: string } {
  const s = [...values].sort((a, b) => a - b);
  const r = { p50: pct(s, 50), p99: pct(s, 99), max: s[s.length - 1] };
  return { ...r, text: `p50 ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms, max ${ms(r.max)} ms` };
}
function rss(): string {
  // maxRSS is in KiB: the peak of this process, which holds the API, publisher, database and (embedded) broker.
  const load = loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
  const m = process.memoryUsage();
  // external: buffers outside the JS heap, PGlite's WebAssembly memory and file system among them.
  return `cloud process RSS ${mib(m.rss)} MiB (peak ${mib(process.resourceUsage().maxRSS * 1024)} MiB; JS heap ${mib(m.heapUsed)}, external ${mib(m.external)}); load ${load}`;
}
/** The cloud process's CPU (every thread: the API, publisher, signer, and aedes when embedded) from `cpu0` to the last receipt, beside the wall time from `t0`. */
function cpuSince(cpu0: NodeJS.CpuUsage, t0: number): string {
  const c = process.cpuUsage(cpu0);
  return `cloud process CPU ${ms((c.user + c.system) / 1000)} ms over ${ms(now() - t0)} ms`;
}
function checkReceipts(rows: Receipt[]): void {
  const bad = rows.filter(([, r]) => !r.ok);
  if (bad.length) throw new Error(`${bad.length} subscriber(s) got a wrong document, e.g. ${bad[0][0]}: ${bad[0][1].detail}`);
}

/** The documents lvsfleet's first apply publishes, compiled and signed before the clock starts. */
async function preSigned(signer: Signer, site = SITE, n = N): Promise<[string, Buffer][]> {
  const v = validateSite(bigSiteSpec(site, n, { vipBase: 10, checkWarmup: CHECK_WARMUP }));
  if (!v.ok) throw new Error(`bench site is invalid: ${JSON.stringify(v.issues[0])}`);
  const issuedAt = new Date().toISOString();
  const docs: [string, Buffer][] = [];
  for (const [name, config] of compileSite(v.site)) {
    const nodeId = nodeIdOf(site, name);
    // As bytes, as the publisher sends them.
    docs.push([nodeId, Buffer.from(await signer.sign({ nodeId, site, revision: 1, issuedAt, config }))]);
  }
  return docs;
}

const SUBSCRIBERS = new URL('./subscribers.ts', import.meta.url);
/** Real agents (intake, engine, dry-run dataplane), run by path: the cloud imports no agent module. */
const AGENTS = new URL('../../agent/bench/fleet-agents.ts', import.meta.url);

/**
 * A child process (subscribers.ts: receipts; fleet-agents.ts: applies) and the bench's side of its
 * messages. `received` answers each expected node's time, checked; `rssMiB` the child's RSS at its last report.
 */
function startChild(script: URL) {
  // BENCH_CHILD_PROF=DIR: V8 CPU profiles of the child processes too, written to DIR at their exit.
  const prof = process.env.BENCH_CHILD_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CHILD_PROF}`] : [];
  const child = fork(fileURLToPath(script), [], {
    execArgv: ['--import', 'tsx', ...prof],
    // Each real agent has libuv's pool of 4 threads for its own few fsyncs. An agents' process of
    // 500 agents gets 16 (AGENT_POOL): with two fsyncs per real server's apply, pools of 4, 8 and
    // 16 per process timed the same, and 128 was slower (its threads, woken for every file call,
    // took the cores from the agents' main threads).
    env: { ...process.env, UV_THREADPOOL_SIZE: script === AGENTS ? AGENT_POOL : process.env.UV_THREADPOOL_SIZE },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let rssMiB = 0;
  /** The agents' process's cost of the last awaited round (fleet-agents.ts). */
  let round: RoundCost = { cpuMs: 0, systemMs: 0 };
  const next = (type: string) =>
    new Promise<any>((resolve, reject) => {
      const on = (m: any) => {
        if (m.type === 'error') reject(new Error(m.message));
        if (m.type === type) {
          child.off('message', on);
          if (m.rssMiB) rssMiB = m.rssMiB;
          if (m.round) round = m.round;
          resolve(m);
        }
      };
      child.on('message', on);
    });
  const received = async (what: string, withinS = 90): Promise<Receipt[]> => {
    const r = await Promise.race([
      next('done'),
      new Promise<never>((_, rej) =>
        setTimeout(() => rej(new Error(`${what}: not every expected node got (or applied) its document within ${withinS} s`)), withinS * 1000),
      ),
    ]);
    const rows = (r.received ?? r.applied) as Receipt[];
    checkReceipts(rows);
    return rows;
  };
  let stopped: Promise<unknown> | null = null;
  const stop = async () => {
    stopped ??= new Promise((r) => {
      child.once('exit', r);
      child.send({ type: 'stop' });
    });
    await stopped;
  };
  return {
    child,
    next,
    received,
    stop,
    get rssMiB() {
      return rssMiB;
    },
    get round() {
      return round;
    },
  };
}

/**
 * `lvsfleet serve`'s app and publisher in this process, wired as `serve` wires them: the publisher
 * on a connection of its own (PostgreSQL), and an apply hands it the rows it wrote, which it then
 * need not read back.
 */
async function servedApp(
  db: Awaited<ReturnType<typeof openDatabase>>,
  broker: { url: string; username?: string; password?: string },
  signer: Signer,
): Promise<{ app: ReturnType<typeof createApp>; close(): Promise<void> }> {
  const publisherDb = await openBeside(db, { poolSize: 1, name: 'lvsfleet-publisher bench' });
  const publisher = await startPublisher({ db: publisherDb.db, mqttUrl: broker.url, username: broker.username, password: broker.password, signer });
  const app = createApp({ db: db.db, kick: (after) => (after?.handedOff ? undefined : publisher.kick()), handoff: (rows) => publisher.handoff(rows), signer });
  return {
    app,
    close: async () => {
      await publisher.close();
      await publisherDb.close();
    },
  };
}

/** The cloud under test: `lvsfleet serve`'s app and publisher in this process, or the Workers entry under `wrangler dev`. */
async function nodeCloud(
  db: Awaited<ReturnType<typeof openDatabase>>,
  broker: { url: string; username?: string; password?: string },
  signer: Signer,
): Promise<BenchCloud> {
  const { app, close } = await servedApp(db, broker, signer);
  return {
    apply: async (site, body, token, query = '') =>
      app.request(`/v1/sites/${site}/spec${query}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body }),
    close,
  };
}

async function run(
  label: string,
  broker: { url: string; username?: string; password?: string; close(): Promise<void> },
  db: Awaited<ReturnType<typeof openDatabase>>,
  runtime: 'node' | 'workers' = 'node',
  /** The database's URL, for the Workers entry when the database is not PGlite. */
  dbUrl?: string,
): Promise<void> {
  const signer = await loadSigner(db.db, { ed25519: ED25519 });
  const admin = await ensureBootstrapAdmin(db.db);
  const t0w = Date.now();
  const cloud = runtime === 'node' ? await nodeCloud(db, broker, signer) : await startWorkersCloud(db.pglite ?? dbUrl!, broker);
  if (runtime === 'workers')
    console.log(`[${label}] wrangler dev (workerd) started in ${Date.now() - t0w} ms; RSS figures below are this process's, workerd's not counted`);
  // The request body is made before the clock starts: a client sends a spec it already holds.
  const body = (opts: { vipBase: number; rs1Weight?: number }) => JSON.stringify(bigSiteSpec(SITE, N, { ...opts, checkWarmup: CHECK_WARMUP }));
  const apply = async (text: string, query = '') => cloud.apply(SITE, text, admin.secret!, query);

  const spec = bigSiteSpec(SITE, N) as { spec: { nodes: { name: string }[] } };
  const nodeIds = spec.spec.nodes.map((n) => nodeIdOf(SITE, n.name));
  const subs = startChild(SUBSCRIBERS);
  const { child, next, received } = subs;
  let agents: ReturnType<typeof agentFleet> | null = null;
  const session = PROF_DIR ? new Session() : null;
  session?.connect();
  await session?.post('Profiler.enable');
  const bare = await mqtt.connectAsync(broker.url, {
    clientId: `bench-floor-${process.pid}`,
    username: broker.username,
    password: broker.password,
    reconnectPeriod: 0,
  });
  try {
    const t0c = Date.now();
    child.send({ type: 'start', start: { url: broker.url, username: broker.username, password: broker.password, nodeIds, keys: await signer.publicJwks() } });
    const ready = await next('ready');
    console.log(`[${label}] ${ready.clients} subscribers connected in the child process (${Date.now() - t0c} ms); ${rss()}`);

    // FLOOR: the same documents from a bare client, every publish in flight at once.
    const docs = await preSigned(signer);
    const bytes = docs.reduce((t, [, d]) => t + d.length, 0) / docs.length;
    child.send({ type: 'await', revision: 1 });
    const floorDone = received('floor');
    const f0 = now();
    await Promise.all(docs.map(([nodeId, jws]) => bare.publishAsync(topics.desired(nodeId), jws, { qos: 1, retain: true })));
    const f1 = now();
    const floor = stats((await floorDone).map(([, r]) => r.at - f0));
    console.log(
      `[${label}] FLOOR (bare mqtt.js client, ${docs.length} pre-signed documents of ${ms(bytes)} B, retained QoS 1): all PUBACKs ${ms(f1 - f0)} ms; publish→receipt ${floor.text}`,
    );
    const ratio = (s: { p50: number; p99: number }) => `(${times(s.p50 / floor.p50)}× / ${times(s.p99 / floor.p99)}× the floor's p50 / p99)`;

    // The second apply moves every VIP, so every node's compiled config changes and is published again.
    let revision = 0; // the floor used revision 1 too; its documents have all arrived before the apply starts
    /** Applies the site with its VIPs at `vipBase` and waits until every node has its document; printed as `round` unless null. */
    const everyNode = async (round: string | null, vipBase: number, prof = false) => {
      child.send({ type: 'await', revision: revision + 1 });
      const done = received(round ?? 'an untimed apply');
      const text = body({ vipBase });
      const t0 = now();
      const res = await profiled(prof ? session : null, join(PROF_DIR ?? '', 'apply.cpuprofile'), () => apply(text), 25);
      const t1 = now();
      if (res.status !== 200) throw new Error(`apply answered ${res.status}: ${await res.text()}`);
      const out = (await res.json()) as { revision: number; publishedNodes: string[] };
      revision = out.revision;
      if (out.publishedNodes.length !== N) throw new Error(`apply published ${out.publishedNodes.length} of ${N} nodes`);
      const rows = await profiled(prof ? session : null, join(PROF_DIR ?? '', 'drain.cpuprofile'), () => done, 25);
      if (round === null) return;
      const lat = stats(rows.map(([, r]) => r.at - t0));
      const after = stats(rows.map(([, r]) => r.at - t1));
      console.log(
        `[${label}] ${round}: revision ${out.revision}, ${out.publishedNodes.length} outbox rows, apply request ${ms(t1 - t0)} ms; ` +
          `apply→receipt over ${rows.length} nodes: ${lat.text} ${ratio(lat)}; apply response→receipt (sign + publish + fan-out): ${after.text}; ${rss()}`,
      );
    };
    await everyNode('first apply (every node new)', 10);
    await everyNode('second apply (every VIP moved)', 50, !!session);
    if (PROF_DIR) return;
    // The same change from a process that has served a few applies (its code compiled, its pooled
    // connections' statements prepared), as a cloud that has been up a while would make it. The
    // untimed applies alternate the VIPs and end away from 50, so the timed one moves every VIP
    // back to where the one-real-server rounds below start.
    for (let i = 0; i < WARM_APPLIES; i++) await everyNode(null, (WARM_APPLIES - i) % 2 ? 60 : 50);
    await everyNode(`every VIP moved again, after ${plural(WARM_APPLIES, 'more apply', 'more applies')}`, 50);

    // One real server's weight: only the directors' IPVS tables change.
    const oneRs: number[] = [];
    /** From the apply's response: the drain's part (sign, publish, fan-out), without the request's. */
    const oneRsAfter: number[] = [];
    let requests = 0;
    for (let i = 0; i < ONE_RS_ROUNDS; i++) {
      child.send({ type: 'await', revision: revision + 1, expect: DIRECTORS });
      const done = received('one real server weight');
      const text = body({ vipBase: 50, rs1Weight: 2 + i });
      const t0 = now();
      const res = await apply(text);
      const t1 = now();
      requests += t1 - t0;
      if (res.status !== 200) throw new Error(`apply answered ${res.status}: ${await res.text()}`);
      const out = (await res.json()) as { revision: number; publishedNodes: string[] };
      revision = out.revision;
      for (const [, r] of await done) {
        oneRs.push(r.at - t0);
        oneRsAfter.push(r.at - t1);
      }
      // Documents to other nodes would arrive in the same drain; wait well past it, then look.
      await new Promise((r) => setTimeout(r, 300));
      child.send({ type: 'collect' });
      const all = (await next('collected')).received as Receipt[];
      checkReceipts(all);
      const others = all.filter(([n]) => !DIRECTORS.includes(n)).map(([n]) => n);
      if (others.length || out.publishedNodes.length !== DIRECTORS.length)
        throw new Error(
          `one real server's weight: published to ${out.publishedNodes.join(', ')}; other nodes that got a document: ${others.length} (${others.slice(0, 5).join(', ')})`,
        );
    }
    const one = stats(oneRs);
    console.log(
      `[${label}] one real server's weight changed, ${ONE_RS_ROUNDS} applies: apply request mean ${ms(requests / ONE_RS_ROUNDS)} ms; ` +
        `apply→receipt by the 2 directors: ${one.text} (${times(one.p99 / floor.p99)}× the floor's p99); apply response→receipt: ${stats(oneRsAfter).text}; 0 other nodes got a document; ${rss()}`,
    );

    // The agents: the subscribers leave, a real agent per node takes their place (AGENT_PROCS processes).
    await subs.stop();
    agents = agentFleet(AGENT_PROCS, () => startChild(AGENTS));
    const t0a = now();
    const up = await agents.start({ url: broker.url, username: broker.username, password: broker.password, nodeIds, keys: await signer.publicJwks() });
    const inProcs = `in ${agents.processes} process${agents.processes > 1 ? 'es' : ''}`;
    console.log(
      `[${label}] ${up.agents} agents (verified intake + cache, engine, dry-run dataplane) ${inProcs}, ${agentsState()}, applied their retained documents ${ms(now() - t0a)} ms after start; agents' processes' RSS ${up.rssMiB} MiB`,
    );
    agents.await(revision + 1);
    const all = agents.received('every agent applied', 180);
    // Forced: moving every VIP removes every service from the directors' IPVS tables, which their
    // agents refuse (the mass-delete guard) unless the document allows it.
    const moved = body({ vipBase: 90 });
    const t0 = now();
    const res = await apply(moved, '?force=1');
    const t1 = now();
    if (res.status !== 200) throw new Error(`apply answered ${res.status}: ${await res.text()}`);
    revision = ((await res.json()) as { revision: number }).revision;
    const rows = await all;
    const lat = stats(rows.map(([, r]) => r.at - t0));
    // What one apply costs apart from the queue of agents sharing a process: the processes' CPU over
    // the round per agent, and each agent's own payload → applied (stretched by the others' turns).
    const own = stats(rows.map(([, r]) => r.took ?? 0));
    const cost = agents.round;
    const createUs = await agents.fileCreateUs();
    console.log(
      `[${label}] every VIP moved (forced) → every agent applied: apply request ${ms(t1 - t0)} ms; apply→applied over ${N} agents ${inProcs}: ${lat.text} ${ratio(lat)}; ${rss()}; agents' processes' RSS ${agents.rssMiB} MiB`,
    );
    console.log(
      `[${label}]   the agents' processes used ${ms(cost.cpuMs)} ms of CPU in that round (the kernel's part ${ms(cost.systemMs)}; creating a file in their state directory then took ${ms(createUs)} µs of kernel time): ${(cost.cpuMs / N).toFixed(2)} ms per agent's apply; each agent's own payload→applied ${own.text}`,
    );
    const oneApplied: number[] = [];
    const oneAppliedAfter: number[] = [];
    const oneOwn: number[] = [];
    for (let i = 0; i < ONE_RS_ROUNDS; i++) {
      agents.await(revision + 1, DIRECTORS);
      const done = agents.received('one real server weight, directors applied');
      const text = body({ vipBase: 90, rs1Weight: 20 + i });
      const t0r = now();
      const r = await apply(text);
      const t1r = now();
      if (r.status !== 200) throw new Error(`apply answered ${r.status}: ${await r.text()}`);
      revision = ((await r.json()) as { revision: number }).revision;
      for (const [, a] of await done) {
        oneApplied.push(a.at - t0r);
        oneAppliedAfter.push(a.at - t1r);
        oneOwn.push(a.took ?? 0);
      }
      await new Promise((res2) => setTimeout(res2, 300));
      const got = (await agents.collect()) as Receipt[];
      checkReceipts(got);
      const others = got.filter(([n]) => !DIRECTORS.includes(n)).map(([n]) => n);
      if (others.length) throw new Error(`one real server's weight: other agents applied a document: ${others.length} (${others.slice(0, 5).join(', ')})`);
    }
    const oneA = stats(oneApplied);
    console.log(
      `[${label}] one real server's weight changed, ${ONE_RS_ROUNDS} applies: apply→applied by the 2 directors' agents: ${oneA.text} (apply response→applied: ${stats(oneAppliedAfter).text}; their own payload→applied: ${stats(oneOwn).text}); 0 other agents applied a document; agents' processes' RSS ${agents.rssMiB} MiB`,
    );
  } finally {
    session?.disconnect();
    await bare.endAsync(true).catch(() => {});
    await subs.stop();
    await agents?.stop();
    await cloud.close();
    await broker.close();
  }
}

/**
 * The scale rows on one broker: the floor for a 10,000-node site's documents, that site's first
 * apply, then 100 sites of 100 nodes whose applies all start at once (each node's time counts from
 * the moment they were sent). One subscriber client per 50 nodes. Leaves the broker open.
 */
async function runScale(
  label: string,
  broker: { url: string; username?: string; password?: string },
  db: Awaited<ReturnType<typeof openDatabase>>,
): Promise<void> {
  const BIG = 10_000;
  const SITES = 100;
  const signer = await loadSigner(db.db, { ed25519: ED25519 });
  const admin = await ensureBootstrapAdmin(db.db);
  const served = await servedApp(db, broker, signer);
  const { app } = served;
  const body = (site: string, n: number, vipBase = 10) => JSON.stringify(bigSiteSpec(site, n, { vipBase, checkWarmup: CHECK_WARMUP }));
  const put = (site: string, n: number, text = body(site, n)) =>
    app.request(`/v1/sites/${site}/spec`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin.secret}`, 'content-type': 'application/json' },
      body: text,
    });
  const names = (site: string, n: number) => (bigSiteSpec(site, n) as { spec: { nodes: { name: string }[] } }).spec.nodes.map((x) => nodeIdOf(site, x.name));
  const small = Array.from({ length: SITES }, (_, i) => `s${String(i + 1).padStart(3, '0')}`);
  const bigIds = names('big', BIG);
  const smallIds = small.flatMap((site) => names(site, BIG / SITES));
  const subs = startChild(SUBSCRIBERS);
  const bare = await mqtt.connectAsync(broker.url, {
    clientId: `bench-floor-${process.pid}`,
    username: broker.username,
    password: broker.password,
    reconnectPeriod: 0,
  });
  // --cpu-prof: a profile of the 100 sites' row (the scale rows run on aedes only then).
  const session = PROF_DIR ? new Session() : null;
  session?.connect();
  await session?.post('Profiler.enable');
  try {
    const t0c = Date.now();
    subs.child.send({
      type: 'start',
      start: {
        url: broker.url,
        username: broker.username,
        password: broker.password,
        nodeIds: [...bigIds, ...smallIds],
        keys: await signer.publicJwks(),
        perClient: 50,
      },
    });
    const ready = await subs.next('ready');
    console.log(`[${label}] scale: ${ready.clients} subscriber clients for ${bigIds.length + smallIds.length} nodes (${Date.now() - t0c} ms); ${rss()}`);

    // The floor's 10,000 documents (about 90 MB) are the bench's, not the cloud's: let go of once
    // published, so the rows' RSS of this process, which is also the cloud's, does not carry them.
    const floor = await (async () => {
      const docs = await preSigned(signer, 'big', BIG);
      subs.child.send({ type: 'await', revision: 1, expect: bigIds });
      const floorDone = subs.received('scale floor', 240);
      const f0 = now();
      await Promise.all(docs.map(([nodeId, jws]) => bare.publishAsync(topics.desired(nodeId), jws, { qos: 1, retain: true })));
      const got = stats((await floorDone).map(([, r]) => r.at - f0));
      console.log(`[${label}] scale FLOOR (bare client, ${docs.length} pre-signed documents): publish→receipt ${got.text}; ${rss()}`);
      return got;
    })();

    /**
     * One row of the 10,000-node site: applies it as `revision` and prints `row`, from the request
     * to every node's receipt. `text` is the body made before the clock starts; without it the
     * body is made by `put`, inside the timed span (as the first row always has been).
     */
    const bigSiteRow = async (row: string, revision: number, text?: string) => {
      subs.child.send({ type: 'await', revision, expect: bigIds });
      const done = subs.received(row, 240);
      const cpu0 = process.cpuUsage();
      const t0 = now();
      const res = await put('big', BIG, text);
      const t1 = now();
      if (res.status !== 200) throw new Error(`apply answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
      const lat = stats((await done).map(([, r]) => r.at - t0));
      console.log(
        `[${label}] scale: ${row}: apply request ${ms(t1 - t0)} ms; apply→receipt ${lat.text} (${times(lat.p99 / floor.p99)}× the floor's p99); ${cpuSince(cpu0, t0)}; ${rss()}`,
      );
    };
    await bigSiteRow(`one ${BIG}-node site, every node new`, 1);

    subs.child.send({ type: 'await', revision: 1, expect: smallIds });
    const done = subs.received('100 sites', 240);
    const cpu0 = process.cpuUsage();
    const t0 = now();
    let t2 = 0;
    const rows = await profiled(
      session,
      join(PROF_DIR ?? '', 'sites-100x100.cpuprofile'),
      async () => {
        const answers = await Promise.all(small.map((site) => put(site, BIG / SITES)));
        t2 = now();
        const bad = answers.find((a) => a.status !== 200);
        if (bad) throw new Error(`an apply answered ${bad.status}: ${(await bad.text()).slice(0, 300)}`);
        return done;
      },
      30,
    );
    const lat = stats(rows.map(([, r]) => r.at - t0));
    console.log(
      `[${label}] scale: ${SITES} sites × ${BIG / SITES} nodes applied at once: all requests answered in ${ms(t2 - t0)} ms; apply→receipt ${lat.text} (${times(lat.p99 / floor.p99)}× the floor's p99); ${cpuSince(cpu0, t0)}; ${rss()}`,
    );

    // The 10,000-node site changed: every VIP moved, so every node's config changes (its second
    // apply, as the 1,000-node rows' second apply): its rows are updated, not created. Last, so the
    // rows before it measure what they measured before it was added.
    await bigSiteRow(`the ${BIG}-node site, every VIP moved (its second apply)`, 2, body('big', BIG, 20));

    // The largest documents' real readers, after the rows (which they would otherwise share the
    // machine with): the site's two directors, whose claims list every real server. Real agents
    // (fleet-agents.ts: the MQTT link, the verified intake, the engine on the dry-run dataplane)
    // take their retained revision 2; the start fails if either refuses its document.
    const directors = (bigSiteSpec('big', BIG) as { spec: { nodes: { name: string; role: string }[] } }).spec.nodes
      .filter((n) => n.role === 'director')
      .map((n) => nodeIdOf('big', n.name));
    const dirAgents = agentFleet(1, () => startChild(AGENTS));
    try {
      const up = await dirAgents.start({
        url: broker.url,
        username: broker.username,
        password: broker.password,
        nodeIds: directors,
        keys: await signer.publicJwks(),
      });
      console.log(
        `[${label}] scale: the ${BIG}-node site's ${up.agents} directors' agents (one process, started after the rows) each verified and applied its retained revision 2 (the larger document ${(up.largestBytes / 1e6).toFixed(1)} MB): the slower from payload to applied ${ms(up.firstApplyMs)} ms`,
      );
    } finally {
      await dirAgents.stop();
    }
  } finally {
    session?.disconnect();
    await bare.endAsync(true).catch(() => {});
    await subs.stop();
    await served.close();
  }
}

/**
 * A row's database: PGlite in this process, or a fresh PostgreSQL database (dropped by `close`)
 * with --postgres, and for the scale rows also with --scale-only and DATABASE_URL.
 */
async function benchDatabase(scale = false): Promise<{ db: Awaited<ReturnType<typeof openDatabase>>; url?: string; label: string; close(): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  const pg = url && (ON_POSTGRES || (scale && SCALE_ONLY)) ? await freshPostgres(url) : null;
  const link = pg && DB_DELAY ? await delayedUrl(pg.url, DB_DELAY) : null;
  const db = await openDatabase({ url: link?.url ?? pg?.url });
  return {
    db,
    url: link?.url ?? pg?.url,
    label: db.pglite ? 'PGlite' : link ? `PostgreSQL ${DB_DELAY} ms away each way` : 'PostgreSQL',
    async close() {
      await db.close();
      await link?.close();
      await pg?.drop();
    },
  };
}

/** Each row runs in a process of its own (`--row NAME`, run by main()): what one row leaves behind must not weigh on the next. */
type RowName = 'aedes' | 'workers' | 'scale-aedes' | 'mosquitto' | 'scale-mosquitto';
const ROW_NAMES: readonly RowName[] = ['aedes', 'workers', 'scale-aedes', 'mosquitto', 'scale-mosquitto'];
const rowAt = process.argv.indexOf('--row');
const ROW = rowAt > 0 ? (process.argv[rowAt + 1] as RowName) : null;
if (ROW && !ROW_NAMES.includes(ROW)) throw new Error(`--row: "${ROW}" is not one of ${ROW_NAMES.join(', ')}`);

/** The rows this invocation runs, in order. */
function rowsToRun(): RowName[] {
  const rows: RowName[] = [];
  if (!SCALE_ONLY) rows.push('aedes');
  if (!PROF_DIR && !SCALE_ONLY) rows.push('workers');
  if (SCALE) rows.push('scale-aedes');
  if (PROF_DIR || !MOSQUITTO_BIN) return rows;
  if (!SCALE_ONLY) rows.push('mosquitto');
  if (SCALE) rows.push('scale-mosquitto');
  return rows;
}

async function runRow(row: RowName): Promise<void> {
  // The agents' processes are forked with this process's environment: they find it there.
  agentsFs = AGENTS_FS === 'ext4' ? await journaledExt4() : null;
  if (agentsFs) process.env.BENCH_AGENTS_DIR = agentsFs.dir;
  try {
    await runRowOn(row);
  } finally {
    agentsFs?.close();
    agentsFs = null;
  }
}

async function runRowOn(row: RowName): Promise<void> {
  switch (row) {
    case 'aedes': {
      const { db, label, close } = await benchDatabase();
      const b = await startEmbeddedBroker({ port: 0, db: db.db });
      await run(`aedes (embedded) + ${label}`, { url: b.url, ...b.internal, close: () => b.close() }, db);
      return close();
    }
    case 'workers': {
      // The same rows with the Workers entry as the cloud: apply over HTTP to wrangler dev, its
      // SitePublisher Durable Object drains through connect() to the same kind of broker. With
      // --postgres its invocations connect to the fresh PostgreSQL database (no Hyperdrive pool
      // between); else the PGlite in this process serves them over the wire, one query at a time.
      const { db, url, label, close } = await benchDatabase();
      const b = await startEmbeddedBroker({ port: 0, db: db.db });
      await run(
        `Workers (wrangler dev, workerd) + aedes (embedded) + ${db.pglite ? 'PGlite over the wire' : label}`,
        { url: b.url, ...b.internal, close: () => b.close() },
        db,
        'workers',
        url,
      );
      return close();
    }
    case 'scale-aedes': {
      const { db, label, close } = await benchDatabase(true);
      const b = await startEmbeddedBroker({ port: 0, db: db.db });
      await runScale(`aedes (embedded) + ${label}`, { url: b.url, ...b.internal }, db);
      await b.close();
      return close();
    }
    case 'mosquitto': {
      const { db, label, close } = await benchDatabase();
      const m = await OwnMosquitto.create(() => 'allow_anonymous true\nmax_queued_messages 10000');
      await m.start();
      await run(`mosquitto (own instance on 127.0.0.1:${m.port}, anonymous) + ${label}`, { url: m.url, close: () => m.dispose() }, db);
      return close();
    }
    case 'scale-mosquitto': {
      const { db, label, close } = await benchDatabase(true);
      const m = await OwnMosquitto.create(() => 'allow_anonymous true\nmax_queued_messages 100000');
      await m.start();
      await runScale(`mosquitto (own instance on 127.0.0.1:${m.port}) + ${label}`, { url: m.url }, db);
      await m.dispose();
      return close();
    }
  }
}

/** The row running now, in its own process; ended if this process reaches its time limit. */
let rowChild: ChildProcess | null = null;

/**
 * Runs one row in a new process (this file with `--row`). In one process, a row ran after the
 * others' leftovers: the Workers row's PGlite and wrangler left the Mosquitto row a cloud process
 * of 650-750 MiB, its RSS figures were that, and its own figures were slower than the same row run
 * first (every agent applied p99 2.2-3.1 s against 1.4).
 */
function inOwnProcess(row: RowName): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), '--row', row], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    rowChild = child;
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      rowChild = null;
      if (code === 0) resolve();
      else reject(new Error(`the ${row} row failed (${signal ?? `exit code ${code}`})`));
    });
  });
}

/**
 * How fast this machine starts a bare Node.js process (`node -e 0`, median of 5, ms): printed with
 * the figures, because the test machines come in two kinds about twice as fast as each other, and
 * every row's figures scale with it.
 */
function nodeStartMs(): number {
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    runs.push(performance.now() - t0);
  }
  return Math.round(runs.sort((a, b) => a - b)[2]);
}

async function main(): Promise<void> {
  if (PROF_DIR) mkdirSync(PROF_DIR, { recursive: true });
  // A row this bench forked prints no header: the bench did; a row asked for by hand does.
  if (!ROW || !process.send)
    console.log(
      `bench:publish: ${N} nodes${QUICK ? ' (--quick)' : ''}, subscribers in a second process, each row in a process of its own, Node ${process.version}; this machine starts \`node -e 0\` in ${nodeStartMs()} ms (median of 5)`,
    );
  if (ROW) return runRow(ROW);
  for (const row of rowsToRun()) await inOwnProcess(row);
  if (!PROF_DIR && !MOSQUITTO_BIN) console.log('[mosquitto] skipped: mosquitto is not installed');
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench:publish failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
