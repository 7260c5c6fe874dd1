import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import type { MqttClient } from 'mqtt';
import type { Site } from '#shared/site/site.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { nodeIdOf, topics } from '#shared/wire/topics.ts';
import { runName, seedsSite } from './fixtures.test-support.ts';
import { collect, connectAs, endQuietly } from './mqtt-client.test-support.ts';
import { freePorts } from './net.test-support.ts';
import { freshPostgres } from './pg.test-support.ts';
import { LOCK_NAMESPACE } from '../src/db/advisory-lock.ts';
import { unverifiedClaims } from './jws.test-support.ts';

/**
 * The replicas' proof (docs/architecture.md, "Layers", several Node replicas): three real `lvsfleet
 * serve` processes on one PostgreSQL and one broker; bursts of applies through random replicas
 * while replicas are SIGKILLed and started again. After every round each node's retained document
 * is its newest revision, and no node's subscriber ever saw a revision go backward; over all
 * rounds a webhook receiver got every alert once. Ten seeded rounds reuse one set of processes;
 * the seeds are printed when a round fails (LVSFLEET_CHAOS_SEEDS=s1,s2,… replays them).
 */
const BIN = fileURLToPath(new URL('../../bin/lvsfleet.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REPLICAS = 3;
const ROUNDS = 10;
const APPLIES = 50;
const SITES_PER_ROUND = 4;
/** A director that reported once and left: its site is unreachable and it is offline, two alerts the replicas must raise once. */
const ALERTS = ['site.unreachable', 'node.offline'];
/** An event of the agent's own, which every replica's ingest receives and must store once. */
const AGENT_EVENT = 'agent.degraded';

const skip = process.env.DATABASE_URL
  ? false
  : 'DATABASE_URL not set: the replicas share one PostgreSQL (session advisory locks, row locks), which PGlite is not';
if (skip) console.log(`replica chaos: skipped (${skip})`);

/** mulberry32: a small seeded PRNG, so a failing round can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The revision inside a compact JWS (the signing tests check signatures); 0 for an empty (cleared) retained message. */
function revisionOf(jws: Buffer): number {
  if (!jws.length) return 0;
  return unverifiedClaims<{ revision: number }>(jws).revision;
}

/** One `lvsfleet serve` replica: its own HTTP port and data dir, the shared database and broker. */
class Replica {
  proc: ChildProcess | null = null;
  out = '';
  serving = false;
  starts = 0;
  constructor(
    readonly name: string,
    readonly port: number,
    readonly dataDir: string,
    private readonly args: string[],
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the process and resolves once it prints its banner (rejects if it exits first). */
  start(): Promise<void> {
    this.starts++;
    this.serving = false;
    const proc = spawn(process.execPath, [BIN, 'serve', '--port', String(this.port), '--data-dir', this.dataDir, ...this.args], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    const append = (b: Buffer) => {
      this.out += b.toString();
      // The tail is what a failure report needs; a long run must not grow without bound.
      if (this.out.length > 400_000) this.out = this.out.slice(-200_000);
    };
    proc.stdout!.on('data', append);
    proc.stderr!.on('data', append);
    return new Promise((resolve, reject) => {
      const onData = () => {
        if (this.proc === proc && this.out.includes(`lvsfleet serving on ${this.url}`)) {
          proc.stdout!.off('data', onData);
          this.serving = true;
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.once('exit', (code, signal) => {
        if (this.proc === proc) this.serving = false;
        reject(new Error(`${this.name} exited (${code ?? signal}) before serving:\n${this.out.slice(-3000)}`));
      });
    });
  }

  /** SIGKILL: no shutdown, no lease released by hand; PostgreSQL and the broker see a dead socket. */
  async kill(): Promise<void> {
    const p = this.proc;
    this.serving = false;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    process.kill(p.pid!, 'SIGKILL');
    await gone;
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.serving = false;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    process.kill(p.pid!, 'SIGTERM');
    const t = setTimeout(() => p.exitCode === null && process.kill(p.pid!, 'SIGKILL'), 15_000);
    await gone;
    clearTimeout(t);
  }
}

/** The broker of MQTT_URL, or an aedes broker in a process of its own (anonymous, on a free port). */
async function startBroker(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.MQTT_URL) return { url: process.env.MQTT_URL, stop: async () => {} };
  const code = [
    "import { createServer } from 'node:net';",
    "import { Aedes } from 'aedes';",
    'const broker = await Aedes.createBroker();',
    'const server = createServer(broker.handle);',
    "server.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));",
  ].join('\n');
  const proc = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (b) => (out += b));
  proc.stderr!.on('data', (b) => (out += b));
  const port = await waitFor(() => /port (\d+)/.exec(out)?.[1] ?? (proc.exitCode !== null ? Promise.reject(new Error(`aedes: ${out}`)) : null), {
    what: 'aedes broker',
    timeoutMs: 30_000,
  });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async stop() {
      if (proc.exitCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      process.kill(proc.pid!, 'SIGTERM');
      await gone;
    },
  };
}

interface Delivery {
  id: string;
  type: string;
  site: string;
  key: string;
}

describe.skipIf(!!skip)('three lvsfleet serve replicas on one PostgreSQL, killed at random', () => {
  const admin = `lvs_admin_${randomBytes(16).toString('hex')}`;
  const replicas: Replica[] = [];
  const allNodes: string[] = [];
  const siteNames: string[] = [];
  const deliveries: Delivery[] = [];
  let pg: Awaited<ReturnType<typeof freshPostgres>>;
  let sql: postgres.Sql;
  let broker: Awaited<ReturnType<typeof startBroker>>;
  let receiver: Server;
  let cleaner: MqttClient | undefined;
  let midDrainKills = 0;
  /** PIDs of the serve processes holding a site's publishing lease now (their lease session names them), in this test's database only. */
  async function leaseHolders(): Promise<Set<number>> {
    const rows = await sql<{ name: string }[]>`
      SELECT a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = (${LOCK_NAMESPACE.sitePublisher}::int)::oid
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
    return new Set(rows.map((r) => Number(/ pid (\d+)$/.exec(r.name)?.[1])));
  }
  /** Restarts still under way: a round goes on without waiting for them (the next kill picks among serving replicas). */
  const restarts: Promise<void>[] = [];

  beforeAll(async () => {
    pg = await freshPostgres(process.env.DATABASE_URL!);
    sql = postgres(pg.url, { max: 2, onnotice: () => {} });
    broker = await startBroker();
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (b) => (body += b));
      req.on('end', () => {
        const json = JSON.parse(body) as { type: string; data: { site: string; data: { key?: string } } };
        // An alert by its key (type|subject), an agent's event by its type (one per site here).
        deliveries.push({ id: String(req.headers['webhook-id']), type: json.type, site: json.data.site, key: json.data.data.key ?? json.type });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    // The receiver answers at once: a 2 s send timeout shortens how long a killed replica's claims
    // hold their deliveries back (four timeouts and more, queue.ts), the wait at the end of the run.
    const args = ['--host', '127.0.0.1', '--database-url', pg.url, '--mqtt-url', broker.url, '--webhook-allow-private', '--webhook-timeout', '2s'];
    // All ports held at once: one freePort() after another can hand the same port to two replicas.
    const ports = await freePorts(REPLICAS);
    for (let i = 0; i < REPLICAS; i++) {
      const dir = mkdtempSync(join(tmpdir(), `lvsfleet-chaos-${i}-`));
      replicas.push(new Replica(`r${i}`, ports[i], dir, args, { LVSFLEET_ADMIN_TOKEN: admin }));
    }
    // All three at once on an empty database: migrations, the bootstrap token and the signing key race too.
    await Promise.all(replicas.map((r) => r.start()));
    const port = (receiver.address() as { port: number }).port;
    const hook = await api(replicas[0], 'POST', '/v1/webhooks', { url: `http://127.0.0.1:${port}/hook`, events: [...ALERTS, AGENT_EVENT] });
    expect(hook.status, JSON.stringify(hook.json)).toBe(200);
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(restarts);
    await Promise.all(replicas.map((r) => r.stop()));
    // Clear the retained documents this run left on a broker other tests share.
    if (allNodes.length) {
      cleaner = await connectAs(broker.url, undefined, undefined).catch(() => undefined);
      for (const n of allNodes) await cleaner?.publishAsync(topics.desired(n), '', { qos: 1, retain: true });
      for (const n of allNodes.filter((id) => id.endsWith('.dr1'))) await cleaner?.publishAsync(topics.status(n), '', { qos: 1, retain: true });
      await endQuietly(cleaner);
    }
    await broker?.stop();
    await new Promise((r) => (receiver ? receiver.close(r) : r(null)));
    await sql?.end({ timeout: 5 });
    await pg?.drop();
    for (const r of replicas) rmSync(r.dataDir, { recursive: true, force: true });
  }, 60_000);

  async function api(r: Replica, method: string, path: string, json?: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(`${r.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
      body: json === undefined ? undefined : JSON.stringify(json),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }

  /** An apply through a random live replica; one that dies under it is tried again on another. */
  async function applyVia(rng: () => number, site: Site): Promise<number> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const live = replicas.filter((r) => r.serving);
      if (!live.length) {
        await sleep(200);
        continue;
      }
      const r = live[Math.floor(rng() * live.length)];
      try {
        const res = await api(r, 'PUT', `/v1/sites/${site.metadata.name}/spec`, site);
        if (res.status >= 500) throw new Error(`${r.name}: ${res.status} ${JSON.stringify(res.json)}`);
        return res.status;
      } catch (err) {
        // A connection refused or reset by a killed replica: the apply may or may not have
        // committed; trying it again is what a client does, and is safe (same spec, same answer or next revision).
        if (r.serving && !/fetch failed|ECONNRE|socket|terminated/i.test(String((err as Error).cause ?? err))) throw err;
        await sleep(50);
      }
    }
    throw new Error(`apply of ${site.metadata.name}: no replica answered`);
  }

  /** The seeds site named `name`, staged rollout off (every apply goes out at once), the extra real server's weight `w`. */
  function siteWithWeight(name: string, w: number): Site {
    const s = seedsSite(name);
    return {
      ...s,
      spec: {
        ...s.spec,
        rollout: { enabled: false },
        services: (s.spec.services ?? []).map((svc) => ({
          ...svc,
          realServers: svc.realServers.map((rs) => ('address' in rs && rs.address ? { ...rs, weight: w } : rs)),
        })),
      },
    } as Site;
  }

  /** Per round: how long the burst took (every apply answered), and the rest (documents out, checks). */
  const phases: string[] = [];

  async function round(round: number, seed: number): Promise<void> {
    const t0 = performance.now();
    const rng = prng(seed);
    const names = Array.from({ length: SITES_PER_ROUND }, (_, i) => runName(`ch${round}${String.fromCharCode(97 + i)}`));
    siteNames.push(...names);
    const nodeIds = names.flatMap((n) => seedsSite(n).spec.nodes.map((node) => nodeIdOf(n, node.name)));
    allNodes.push(...nodeIds);

    // One subscriber per node, as its agent would be, before anything is published.
    const subscribers = await Promise.all(nodeIds.map(async (n) => ({ n, c: await connectAs(broker.url, undefined, undefined) })));
    const seen = new Map<string, number[]>();
    try {
      for (const { n, c } of subscribers) {
        const got = collect(c);
        seen.set(n, []);
        c.on('message', (topic) => seen.set(n, (got.get(topic) ?? []).map(revisionOf)));
        await c.subscribeAsync(topics.desired(n), { qos: 1 });
      }
      for (const n of names) expect(await applyVia(rng, siteWithWeight(n, 1))).toBe(200);
      // dr1 of every site reports once and drops off (its last will), as a director that died would:
      // status retained, as the agent publishes it (mqtt-link.ts), events not.
      const reporter = await connectAs(broker.url, undefined, undefined);
      const dr1s = names.map((n) => nodeIdOf(n, 'dr1'));
      for (const dr1 of dr1s) {
        await reporter.publishAsync(topics.status(dr1), JSON.stringify({ nodeId: dr1, online: true, at: new Date().toISOString() }), { qos: 1, retain: true });
        const degraded = { nodeId: dr1, at: new Date().toISOString(), type: AGENT_EVENT, data: { what: 'checks', detail: 'chaos' } };
        await reporter.publishAsync(topics.events(dr1), JSON.stringify(degraded), { qos: 1 });
        await reporter.publishAsync(topics.status(dr1), JSON.stringify({ nodeId: dr1, online: false }), { qos: 1, retain: true });
      }
      await endQuietly(reporter);
      // The reports are stored before the kills begin. Ingest takes each message on a clean session,
      // so a message still queued in every replica subscribed when it came is lost to history if all
      // of them die before storing it (docs/architecture.md, "Status and events": the retained status
      // puts the state right when a replica subscribes again; the event and the presence change are
      // gone). That is a known limit, not what this test is about: the publisher's leases and the
      // alerts' claims under SIGKILL.
      await waitFor(
        async () => {
          const stored = await sql`
            SELECT count(*)::int AS n FROM node_status s WHERE s.node_id IN ${sql(dr1s)} AND NOT s.online
              AND EXISTS (SELECT 1 FROM events e WHERE e.node_id = s.node_id AND e.type = ${AGENT_EVENT})`;
          return stored[0].n === dr1s.length;
        },
        { what: "every dr1's reports stored", timeoutMs: 60_000 },
      );

      // The burst: applies at random gaps through random replicas, and kills in the middle of it.
      const killAt = new Set(Array.from({ length: 1 + Math.floor(rng() * 2) }, () => Math.floor(rng() * APPLIES)));
      const applies: Promise<number>[] = [];
      for (let i = 0; i < APPLIES; i++) {
        const site = names[Math.floor(rng() * names.length)];
        applies.push(applyVia(rng, siteWithWeight(site, 2 + i)));
        if (killAt.has(i)) {
          const live = replicas.filter((r) => r.serving);
          if (live.length >= 2) {
            // A replica holding a site lease is in the middle of a drain: kill that one when there is one.
            const holders = await leaseHolders();
            const draining = live.filter((r) => holders.has(r.proc!.pid!));
            if (draining.length) midDrainKills++;
            const pool = draining.length ? draining : live;
            const victim = pool[Math.floor(rng() * pool.length)];
            const downMs = Math.floor(rng() * 1000);
            restarts.push(victim.kill().then(async () => (await sleep(downMs), victim.start())));
          }
        }
        await sleep(Math.floor(rng() * 20));
      }
      const answers = await Promise.all(applies);
      const burstMs = Math.round(performance.now() - t0);
      expect(answers.filter((s) => s !== 200)).toEqual([]);

      // What each node should hold: the newest revision written for it.
      const newest = new Map<string, number>();
      const rows = await sql<{ node_id: string; revision: number }[]>`
        SELECT node_id, max(revision)::int AS revision FROM outbox WHERE node_id IN ${sql(nodeIds)} GROUP BY node_id`;
      for (const r of rows) newest.set(r.node_id, r.revision);
      expect(newest.size).toBe(nodeIds.length);
      await waitFor(() => nodeIds.every((n) => seen.get(n)!.at(-1) === newest.get(n)), {
        what: 'every node its newest revision',
        timeoutMs: 60_000,
      }).catch((err: Error) => {
        const lag = nodeIds.filter((n) => seen.get(n)!.at(-1) !== newest.get(n)).map((n) => `${n}: saw ${seen.get(n)!.join(',')} want ${newest.get(n)}`);
        throw new Error(`${err.message}\n${lag.join('\n')}`);
      });
      for (const n of nodeIds) {
        const revs = seen.get(n)!;
        // The same revision twice is allowed (a publish whose PUBACK a killed replica never saw is redone); older never.
        for (let i = 1; i < revs.length; i++) expect(revs[i], `${n} saw ${revs.join(',')}`).toBeGreaterThanOrEqual(revs[i - 1]);
      }
      // Nothing left open: the newest rows marked published after their PUBACK, the older ones skipped.
      const open = () =>
        sql`SELECT node_id, revision, status, attempts, last_error FROM outbox WHERE node_id IN ${sql(nodeIds)} AND status IN ('pending', 'failed')`;
      await waitFor(async () => (await open()).length === 0, { what: 'no outbox row left open', timeoutMs: 30_000 }).catch(async (err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(await open())}`);
      });

      // The retained document, as a node connecting now gets it.
      const late = await connectAs(broker.url, undefined, undefined);
      try {
        const got = collect(late);
        await late.subscribeAsync(
          nodeIds.map((n) => topics.desired(n)),
          { qos: 1 },
        );
        await waitFor(() => nodeIds.every((n) => got.get(topics.desired(n))?.length), { what: 'retained documents', timeoutMs: 10_000 });
        for (const n of nodeIds) expect(revisionOf(got.get(topics.desired(n))!.at(-1)!), `${n} retained`).toBe(newest.get(n));
      } finally {
        await endQuietly(late);
      }
      phases.push(`${burstMs}+${Math.round(performance.now() - t0) - burstMs}`);
    } finally {
      await Promise.all(subscribers.map(({ c }) => endQuietly(c)));
    }
  }

  it(`${ROUNDS} seeded rounds of ${APPLIES} applies with SIGKILLs: newest retained, never backward, every alert raised and delivered once`, async () => {
    const seeds = process.env.LVSFLEET_CHAOS_SEEDS
      ? process.env.LVSFLEET_CHAOS_SEEDS.split(',').map(Number)
      : Array.from({ length: ROUNDS }, () => randomBytes(4).readUInt32LE());
    const took: number[] = [];
    for (let i = 0; i < seeds.length; i++) {
      try {
        const t0 = performance.now();
        await round(i, seeds[i]);
        took.push(Math.round(performance.now() - t0));
      } catch (err) {
        const tails = replicas.map((r) => `--- ${r.name} (started ${r.starts} times)\n${r.out.slice(-4000)}`).join('\n');
        throw new Error(`round ${i} failed; seeds ${seeds.join(',')} (this round's: ${seeds[i]}): ${(err as Error).message}\n${tails}`, { cause: err });
      }
    }
    await Promise.all(restarts);
    expect(replicas.reduce((n, r) => n + r.starts, 0)).toBeGreaterThan(REPLICAS);
    // At least one replica died holding a lease, with its drain under way.
    expect(midDrainKills).toBeGreaterThan(0);

    // Every alert raised once (the alerts row is the claim, one event per raise) and delivered
    // once: one webhook-id per alert (a retry after a kill would carry the same id).
    const raised = () => sql<{ site: string; key: string; events: number }[]>`
      SELECT s.name AS site, a.key, (SELECT count(*)::int FROM events e WHERE e.site_id = a.site_id AND e.type = a.type AND e.data->>'key' = a.key) AS events
      FROM alerts a JOIN sites s ON s.id = a.site_id WHERE s.name IN ${sql(siteNames)}`;
    const want = siteNames.flatMap((site) => [...ALERTS, AGENT_EVENT].map((t) => `${site} ${t}`)).sort();
    const delivered = () => [...new Set(deliveries.filter((d) => siteNames.includes(d.site)).map((d) => `${d.site} ${d.type}`))].sort();
    await waitFor(async () => (await raised()).length === siteNames.length * ALERTS.length && delivered().length === want.length, {
      what: 'every alert raised and delivered',
      // A delivery claimed by a replica that was then killed is retried once its claim expires: the
      // i-th of a round's claims lasts (i + 1 + 3) × the 2 s send timeout, so up to 23 × 2 = 46 s for
      // the last of a full batch of 20 (at the default 10 s: 230 s; seen in CI with it: one delivery
      // still pending at 90 s, and the whole test at 166–263 s).
      timeoutMs: 120_000,
    }).catch(async (err: Error) => {
      const queued = await sql`SELECT d.status, d.attempts, d.last_status, d.last_error, e.type FROM webhook_deliveries d JOIN events e ON e.id = d.event_id`;
      // Where an alert was never raised, what the replicas stored of that site's dr1: its status row
      // and its presence events (an offline dr1 must raise node.offline).
      const rows = await raised();
      const missing = siteNames.filter((site) => ALERTS.some((t) => !rows.some((r) => r.site === site && r.key.startsWith(`${t}|`))));
      const dr1s = missing.map((site) => nodeIdOf(site, 'dr1'));
      const stored = dr1s.length ? await sql`SELECT node_id, online, status, updated_at FROM node_status WHERE node_id IN ${sql(dr1s)}` : [];
      const presence = dr1s.length ? await sql`SELECT node_id, type, at, data FROM events WHERE node_id IN ${sql(dr1s)} ORDER BY id` : [];
      throw new Error(
        `${err.message}: raised ${JSON.stringify(rows)}; received ${JSON.stringify(deliveries)}; queued ${JSON.stringify(queued)}; ` +
          `sites missing an alert ${JSON.stringify(missing)}, their dr1 status ${JSON.stringify(stored)} and events ${JSON.stringify(presence)}; ` +
          replicas.map((r) => `--- ${r.name} (started ${r.starts} times)\n${r.out.slice(-3000)}`).join('\n'),
      );
    });
    const rows = await raised();
    expect(rows.map((r) => `${r.site} ${r.key.split('|')[0]}`).sort()).toEqual(want.filter((w) => !w.endsWith(AGENT_EVENT)));
    expect(rows.filter((r) => r.events !== 1)).toEqual([]);
    // What the three ingests stored of each dr1: its event once, online once, offline once.
    const fromNodes = await sql<{ node: string; type: string; n: number }[]>`
      SELECT node_id AS node, type, count(*)::int AS n FROM events
      WHERE node_id IN ${sql(siteNames.map((n) => nodeIdOf(n, 'dr1')))} AND type IN ${sql([AGENT_EVENT, 'node.online', 'node.offline'])} AND NOT (data ? 'key')
      GROUP BY node_id, type`;
    expect(fromNodes.filter((r) => r.n !== 1)).toEqual([]);
    expect(fromNodes.length).toBe(siteNames.length * 3);
    const ours = deliveries.filter((d) => siteNames.includes(d.site));
    const idsPerAlert = new Map<string, Set<string>>();
    for (const d of ours) idsPerAlert.set(`${d.site} ${d.key}`, (idsPerAlert.get(`${d.site} ${d.key}`) ?? new Set()).add(d.id));
    expect([...idsPerAlert].filter(([, ids]) => ids.size !== 1)).toEqual([]);
    expect(idsPerAlert.size).toBe(want.length);
    const redelivered = ours.length - idsPerAlert.size;
    console.log(
      `replica chaos: ${seeds.length} rounds, ${replicas.reduce((n, r) => n + r.starts, 0) - REPLICAS} restarts (${midDrainKills} killed holding a lease), ${ours.length} deliveries (${redelivered} retried with the same webhook-id); rounds took ${took.join(', ')} ms (burst+rest ${phases.join(', ')})`,
    );
  }, 480_000);
});
