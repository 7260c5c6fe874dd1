import { mkdirSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { cpuUsage, resourceUsage } from 'node:process';
import { compileSite } from '#shared/compiler/compile.ts';
import { parseSite } from '#shared/site/parse.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import { createApp } from '../src/api/app.ts';
import { ensureBootstrapAdmin } from '../src/auth/tokens.ts';
import { sha256Hex as configHash } from '../src/sites/config-hashes.ts';
import { openDatabase } from '../src/db/client.ts';
import { loadSigner } from '../src/keys/signing.ts';
import { freshPostgres } from '../test/pg.test-support.ts';
import { stringify as stringifyYaml } from 'yaml';
import { bigSiteSpec } from './big-site.ts';
import { dbDelayArg, delayedUrl } from './delayed-link.ts';
import { profiled } from './profiled.ts';
import { median, numberArg } from './figures.ts';

/**
 * `npm run bench:apply [-- --nodes N --rounds R --warmup W]`: the apply request alone (PUT of the spec
 * through the API into PGlite; the publisher is not running, so nothing competes with it), W untimed
 * requests (default 5) before each series, for a
 * site where every node changes each round (its VIPs move). Prints wall and process CPU time per
 * request, median of R rounds, with the process's minor page faults in the request (median: new
 * memory touched; in a VM whose host reclaims idle guest memory each costs 12-15 µs, so a request
 * that touches a few MB more is that much slower), beside the parts measured in the same run on the same input: parse +
 * validate, compile, and canonical JSON + SHA-256 of every config; the rest is HTTP and SQL.
 * With DATABASE_URL, on a fresh PostgreSQL database beside it (dropped at the end) instead of
 * PGlite: the process CPU then leaves out the database's own work, which runs in its server.
 * `--db-delay MS` (with DATABASE_URL): the database reached through a relay that holds every
 * chunk MS ms each way (./delayed-link.ts), as a database one network hop away; the wall time then
 * shows the round trips an apply waits for.
 * `--cpu-prof=DIR`: a CPU profile of the last round's request, written to DIR and summarised by
 * area and by the functions with the most self time (and of the last one-real-server round's). Then R rounds that change one real server's
 * weight (only the two directors' configs change), R every-node rounds with the spec sent as YAML
 * instead of JSON, and the machine's load average.
 */
const N = numberArg('nodes', 1000);
const ROUNDS = numberArg('rounds', 9);
/** Untimed requests before each series: the first ones compile the hot paths (one round of warm-up left a 10-15 % change inside the noise). */
const WARMUP = Math.max(1, numberArg('warmup', 5));
const SITE = 'bench';
const DB_DELAY = dbDelayArg(process.argv);
const PROF_DIR = process.argv.find((a) => a.startsWith('--cpu-prof='))?.slice('--cpu-prof='.length);

const mean = (xs: number[]) => xs.reduce((t, x) => t + x, 0) / xs.length;
const f = (x: number) => x.toFixed(1);
const cpuSince = (t: NodeJS.CpuUsage) => {
  const d = cpuUsage(t);
  return (d.user + d.system) / 1000;
};

async function main(): Promise<void> {
  const pg = process.env.DATABASE_URL ? await freshPostgres(process.env.DATABASE_URL) : null;
  if (DB_DELAY && !pg) throw new Error('--db-delay needs DATABASE_URL (a PostgreSQL server to put the delay in front of)');
  const link = pg && DB_DELAY ? await delayedUrl(pg.url, DB_DELAY) : null;
  const db = await openDatabase({ url: link?.url ?? pg?.url });
  const signer = await loadSigner(db.db);
  const admin = await ensureBootstrapAdmin(db.db);
  const app = createApp({ db: db.db, kick: () => {}, signer });
  const session = PROF_DIR ? new Session() : null;
  if (PROF_DIR) mkdirSync(PROF_DIR, { recursive: true });
  session?.connect();
  await session?.post('Profiler.enable');
  /** One PUT of `body`, its wall and process CPU time; profiled into `profile` (a file in PROF_DIR) when named. */
  async function timedPut(
    body: string,
    profile: string | null,
    contentType = 'application/json',
  ): Promise<{ res: Response; wall: number; cpu: number; faults: number }> {
    const f0 = resourceUsage().minorPageFault;
    const c0 = cpuUsage();
    const t0 = performance.now();
    const put = async () =>
      app.request(`/v1/sites/${SITE}/spec`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${admin.secret}`, 'content-type': contentType },
        body,
      });
    const res = profile && session ? await profiled(session, join(PROF_DIR!, profile), put, 25) : await put();
    return { res, wall: performance.now() - t0, cpu: cpuSince(c0), faults: resourceUsage().minorPageFault - f0 };
  }
  const wall: number[] = [];
  const cpu: number[] = [];
  const faults: number[] = [];
  const parts = { validate: [] as number[], compile: [] as number[], hash: [] as number[] };
  // Rounds up to 0 are the warm-up and not counted; the first creates every node.
  for (let round = 1 - WARMUP; round <= ROUNDS; round++) {
    const body = JSON.stringify(bigSiteSpec(SITE, N, { vipBase: Math.abs(round % 2) ? 20 : 10 }));
    const { res, wall: w, cpu: c1, faults: pf } = await timedPut(body, round === ROUNDS ? 'apply-request.cpuprofile' : null);
    const out = (await res.json()) as { revision?: number; publishedNodes?: string[] };
    if (res.status !== 200 || out.publishedNodes?.length !== N) throw new Error(`apply ${round}: HTTP ${res.status} ${JSON.stringify(out).slice(0, 300)}`);
    if (round <= 0) continue;
    wall.push(w);
    cpu.push(c1);
    faults.push(pf);

    let t = cpuUsage();
    // What the request does with the body (parseSite, as JSON), not a shortcut of it.
    const v = parseSite(body, { format: 'json', jit: true });
    parts.validate.push(cpuSince(t));
    if (!v.ok) throw new Error('bench site invalid');
    t = cpuUsage();
    const compiled = compileSite(v.site);
    parts.compile.push(cpuSince(t));
    t = cpuUsage();
    // As the request hashes a config it has not seen (./config-hashes.ts): canonical JSON, synchronous SHA-256.
    for (const cfg of compiled.values()) configHash(canonicalJson(cfg));
    parts.hash.push(cpuSince(t));
  }
  // One real server's weight, back and forth: only the two directors' configs change.
  const weight = { wall: [] as number[], cpu: [] as number[], faults: [] as number[] };
  for (let round = 1 - WARMUP; round <= ROUNDS; round++) {
    const body = JSON.stringify(bigSiteSpec(SITE, N, { vipBase: 10, rs1Weight: 1 + Math.abs(round % 2) }));
    const { res, wall: w, cpu: c1, faults: pf } = await timedPut(body, round === ROUNDS ? 'weight-request.cpuprofile' : null);
    const out = (await res.json()) as { publishedNodes?: string[] };
    // The warm-up's first round moves the VIPs back to the first rounds' and changes every node: not counted.
    if (round <= 0) continue;
    if (res.status !== 200 || out.publishedNodes?.join() !== 'dr1,dr2')
      throw new Error(`weight apply ${round}: HTTP ${res.status} ${JSON.stringify(out).slice(0, 300)}`);
    weight.wall.push(w);
    weight.cpu.push(c1);
    weight.faults.push(pf);
  }
  // The every-node change again, the spec sent as YAML: what an API client that PUTs its YAML file pays
  // (and `lvsfleet apply` did, before it sent the file's value as JSON).
  const yaml = { wall: [] as number[], cpu: [] as number[] };
  for (let round = 1 - WARMUP; round <= ROUNDS; round++) {
    const body = stringifyYaml(bigSiteSpec(SITE, N, { vipBase: Math.abs(round % 2) ? 20 : 10 }));
    const { res, wall: w, cpu: c1 } = await timedPut(body, null, 'application/yaml');
    const out = (await res.json()) as { publishedNodes?: string[] };
    if (res.status !== 200) throw new Error(`YAML apply ${round}: HTTP ${res.status} ${JSON.stringify(out).slice(0, 300)}`);
    if (round <= 0) continue;
    yaml.wall.push(w);
    yaml.cpu.push(c1);
  }
  await db.close();
  await link?.close();
  await pg?.drop();
  const where = pg ? `PostgreSQL (its own CPU not counted${link ? `; reached through a relay holding each chunk ${DB_DELAY} ms each way` : ''})` : 'PGlite';
  console.log(`bench:apply: ${N}-node site, every node changed, ${ROUNDS} rounds (median) after ${WARMUP} of warm-up, ${where}, Node ${process.version}`);
  console.log(
    `  apply request: wall ${f(median(wall))} ms, process CPU ${f(median(cpu))} ms (mean CPU ${f(mean(cpu))} ms; min wall ${f(Math.min(...wall))} ms); ${median(faults)} minor page faults`,
  );
  console.log(
    `  of which, measured alone on the same input (CPU ms): parse + validate ${f(median(parts.validate))}, compile ${f(median(parts.compile))}, canonical JSON + SHA-256 of every config ${f(median(parts.hash))}`,
  );
  const rest = median(cpu) - median(parts.validate) - median(parts.compile) - median(parts.hash);
  console.log(`  the rest (HTTP, decide, SQL: the driver, drizzle, outbox rows, and on PGlite the database itself): ≈ ${f(rest)} ms CPU`);
  console.log(
    `  one real server's weight (only the 2 directors' configs change): wall ${f(median(weight.wall))} ms, process CPU ${f(median(weight.cpu))} ms (mean CPU ${f(mean(weight.cpu))} ms; min wall ${f(Math.min(...weight.wall))} ms); ${median(weight.faults)} minor page faults`,
  );
  console.log(`  every node changed, the spec sent as YAML (${N}-node site): wall ${f(median(yaml.wall))} ms, process CPU ${f(median(yaml.cpu))} ms`);
  console.log(
    `  load average: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench:apply failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
