// npm run bench:agent — idle RSS and time from start to first apply, dry-run, beside the floor
// measured in the same run: a bare `node -e` process (time to its first line of output, its idle
// RSS). Prints figures; asserts nothing. Uses dist/lvsfleet-agent.mjs when built (what hosts run),
// else bin/lvsfleet-agent.mjs (through tsx, slower to start). Two ways an agent starts:
// - standalone: `run --spec FILE --node d1`, a YAML spec parsed, validated and compiled;
// - standalone restart: the same, started again in the state dir the first start left, with the
//   spec unchanged: the compile the first start saved is read instead;
// - cloud mode, what the fleet's agents run: `run --config FILE` with a cached signed document.
//   Made the way a node gets one: this process runs the cloud (PGlite, embedded aedes, API,
//   publisher; cloud/test/harness.test-support.ts), applies the same site, makes an enrollment
//   token, and the agent under test runs `enroll` and then `run` once until it applied the
//   document the broker retained for it (verified, cached in its state dir). Each timed run starts
//   from a copy of that state dir: the cached document is verified again and applied before the
//   broker is contacted; the agent then connects (retained re-delivery, status) while it idles.
//   The cache records the build that accepted it (its schema check is not repeated at that build's
//   boots): with --compare, the other build checks the schema at every start, as after an upgrade.
//   --bundle FILE      run another build of the agent (e.g. one made from an older commit)
//   --compare FILE     also run this build, interleaved run by run with the other (rows marked A and B):
//                      a before/after that both see the same load, which on a shared machine moves more
//                      between two runs of the bench than most changes do
//   --runs N           runs per row (default 3; best and median printed)
//   --node-args "…"    V8/Node flags for the agent and the floor alike (e.g. --max-semi-space-size=1)
//   --flags            also print every row under a few V8 flags (memory against start-up CPU)
//   --cpu-prof DIR     after the table, one more start of each 1- and 1,000-service row under --cpu-prof, profiles in DIR
//   --modes LIST       which agent rows, comma-separated (default "standalone,standalone JSON,standalone restart,cloud")
//   --idle-s S         seconds from the first apply (the floor's first line) to the RSS reading (default 3)
//   --heap-snapshot DIR  after the table, one more start of each 100-service row, a heap snapshot once idle, in DIR
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseSave, renderBatch, renderSave } from '#shared/ipvs/codec.ts';
import { parseSpecText } from '#shared/site/parse.ts';
import { planIpvs } from '../src/ipvs/plan.ts';
import type { IpvsTable } from '#shared/ipvs/model.ts';
import { call, randomPassword, startCloud, type Cloud } from '../../cloud/test/harness.test-support.ts';
import { freePort } from '../../cloud/test/net.test-support.ts';

const { values: opt } = parseArgs({
  options: {
    bundle: { type: 'string' },
    compare: { type: 'string' },
    runs: { type: 'string', default: '3' },
    'node-args': { type: 'string', default: '' },
    flags: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'heap-snapshot': { type: 'string' },
    'idle-s': { type: 'string', default: '3' },
    modes: { type: 'string', default: 'standalone,standalone JSON,standalone restart,cloud' },
  },
});
const root = join(import.meta.dirname, '..', '..');
const built = join(root, 'dist', 'lvsfleet-agent.mjs');
const entry = opt.bundle ?? (existsSync(built) ? built : join(root, 'bin', 'lvsfleet-agent.mjs'));
/** The builds each row runs, interleaved run by run: the entry, and the --compare build when given. */
const bundles = opt.compare ? [entry, opt.compare] : [entry];
const mark = (b: number) => (bundles.length > 1 ? ` [${'AB'[b]}]` : '');
const RUNS = Number(opt.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs: expected a positive integer, got "${opt.runs}"`);
const baseArgs = opt['node-args'].split(/\s+/).filter(Boolean);
/** How long a process sits after its first apply (or first line) before its RSS is read: timers only by then. */
const IDLE_MS = Number(opt['idle-s']) * 1000;
if (!(IDLE_MS >= 0)) throw new Error(`--idle-s: expected a number of seconds, got "${opt['idle-s']}"`);

/** A site with `n` services of two real servers each, all on loopback addresses (never probed: dry-run). */
function spec(n: number, site = 'bench'): string {
  const lines = [
    'apiVersion: lvsfleet/v1',
    'kind: Site',
    `metadata: { name: ${site} }`,
    'spec:',
    '  nodes:',
    '    - { name: d1, role: director, address: 127.0.0.1, interface: lo }',
    '  services:',
  ];
  for (let i = 0; i < n; i++) {
    const vip = `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    lines.push(
      `    - { name: s${i}, vip: ${vip}, port: 80, scheduler: wrr, realServers: [{ address: 127.2.0.1, weight: 1 }, { address: 127.2.0.2, weight: 2 }] }`,
    );
  }
  return lines.join('\n') + '\n';
}

/** utime + stime of a live process, ms (clock ticks of 10 ms: USER_HZ is 100 on Linux). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
  return (Number(f[11]) + Number(f[12])) * 10;
}

async function rssKiB(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

interface Run {
  readyMs: number;
  /** CPU the process had used when ready (user + system, 10 ms ticks): steadier than wall time on a loaded machine. */
  readyCpuMs: number;
  compiledMs: number;
  idleRssMiB: number;
}

/**
 * Spawns `args`, waits for `done` on its stdout (noting `mid` on the way), then IDLE_MS, reads
 * its RSS and stops it.
 */
async function measure(args: string[], done: RegExp, mid?: RegExp, idleMs = IDLE_MS, whenIdle?: (pid: number) => Promise<void>): Promise<Run> {
  const t0 = performance.now();
  const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let buf = '';
  let compiledMs = NaN;
  let readyCpuMs = NaN;
  try {
    const readyMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('not ready within 120 s')), 120_000);
      p.stdout.on('data', (b: Buffer) => {
        const text = buf + b.toString();
        buf = text.slice(-4096); // a line split across two chunks still matches
        if (mid && Number.isNaN(compiledMs) && mid.test(text)) compiledMs = performance.now() - t0;
        if (done.test(text)) {
          clearTimeout(timer);
          readyCpuMs = cpuMs(p.pid!); // read at once: the process is idle from here on
          resolve(performance.now() - t0);
        }
      });
      p.on('exit', (c) => reject(new Error(`${args.join(' ')} exited ${c}`)));
    });
    p.stdout.resume(); // keep draining: a dry run prints every command it would run
    await new Promise((r) => setTimeout(r, idleMs));
    const idleRssMiB = (await rssKiB(p.pid!)) / 1024;
    await whenIdle?.(p.pid!);
    return { readyMs, readyCpuMs, compiledMs, idleRssMiB };
  } finally {
    p.kill('SIGTERM');
    if (p.exitCode === null && p.signalCode === null) await new Promise((r) => p.on('close', r));
  }
}

/** A bare Node process: its first line of output, then idle. The least any Node program costs here. */
function floor(nodeArgs: string[]): Promise<Run> {
  return measure([...nodeArgs, '-e', "process.stdout.write('ready\\n'); setInterval(() => {}, 1 << 30)"], /ready/);
}

type Mode = 'standalone' | 'standalone JSON' | 'standalone restart' | 'cloud';
const DONE = /apply revision 1 (succeeded|failed)/;
type WhenIdle = (pid: number) => Promise<void>;

/**
 * Standalone from a spec file: the YAML text, or the same site as JSON (read with JSON.parse), in a
 * new state dir. `restart`: the YAML spec in the state dir an untimed start of the same build left
 * (its saved compile of the unchanged spec, agent/src/cli/compiled-cache.ts), as after a crash or a
 * reboot.
 */
async function standalone(bundle: string, services: number, json: boolean, nodeArgs: string[], whenIdle?: WhenIdle, restart = false): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'lvsfleet-bench-'));
  try {
    const file = join(dir, json ? 'site.json' : 'site.yaml');
    const yaml = spec(services);
    const parsed = parseSpecText(yaml);
    if (!parsed.ok) throw new Error(`bench spec: ${parsed.issues[0].message}`);
    await writeFile(file, json ? JSON.stringify(parsed.value, null, 2) : yaml);
    const args = [...nodeArgs, bundle, 'run', '--spec', file, '--node', 'd1', '--dataplane', 'dry-run', '--state-dir', join(dir, 'state')];
    if (restart) await measure(args, DONE, undefined, 0);
    // " standalone: " is logged once the spec is parsed, validated and compiled, before the engine starts.
    return await measure(args, DONE, / standalone: /, IDLE_MS, whenIdle);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** An enrolled cloud-mode agent of one site: its config file and the state dir it left after its first document. */
interface Enrolled {
  dir: string;
  config: string;
  state: string;
}

/** Runs the agent command `args` to its end; throws with its output when it fails. */
function runToEnd(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [entry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (out += b.toString()));
    p.on('close', (c) => (c === 0 ? resolve() : reject(new Error(`lvsfleet-agent ${args[0]} exited ${c}: ${out}`))));
  });
}

/**
 * Site `b<n>` on the cloud, with `n` services; its director d1 enrolled by the agent's own
 * `enroll`, then run once until it applied the document the broker retained for it: what a node
 * has in its state dir when it restarts.
 */
async function enroll(cloud: Cloud, admin: string, n: number): Promise<Enrolled> {
  const site = `b${n}`;
  const put = await call(cloud.url, admin, 'PUT', `/v1/sites/${site}/spec`, { yaml: spec(n, site) });
  if (put.status !== 200) throw new Error(`apply of site ${site}: HTTP ${put.status} ${JSON.stringify(put.json)}`);
  const t = await call(cloud.url, admin, 'POST', `/v1/sites/${site}/nodes/d1/enrollment`);
  if (t.status !== 200) throw new Error(`enrollment token for ${site}.d1: HTTP ${t.status} ${JSON.stringify(t.json)}`);
  const dir = await mkdtemp(join(tmpdir(), 'lvsfleet-bench-cloud-'));
  const e: Enrolled = { dir, config: join(dir, 'agent.json'), state: join(dir, 'state') };
  await runToEnd(['enroll', '--url', cloud.url, '--token', t.json.token as string, '--config', e.config, '--state-dir', e.state]);
  // From the broker: verified, cached (desired.json, with the version it was accepted as), applied; then stopped (SIGTERM).
  await measure([entry, 'run', '--config', e.config, '--dataplane', 'dry-run'], DONE, undefined, 0);
  const cached = JSON.parse(await readFile(join(e.state, 'desired.json'), 'utf8')) as { jws?: string; revision?: number };
  if (typeof cached.jws !== 'string' || cached.revision !== 1) throw new Error(`${site}.d1 cached no signed revision 1 in ${e.state}`);
  return e;
}

async function cloudAgent(bundle: string, e: Enrolled, nodeArgs: string[], whenIdle?: WhenIdle): Promise<Run> {
  // A copy of the state dir each run: every start finds what the enrolled agent left, not what the last timed run did.
  const state = await mkdtemp(join(e.dir, 'run-'));
  try {
    await cp(e.state, state, { recursive: true });
    const args = [...nodeArgs, bundle, 'run', '--config', e.config, '--state-dir', state, '--dataplane', 'dry-run'];
    // "booting from cached" is logged once the cached document verified again (signature, schema, node, revision).
    return await measure(args, DONE, / booting from cached /, IDLE_MS, whenIdle);
  } finally {
    await rm(state, { recursive: true, force: true });
  }
}

let cloud: Cloud | null = null;
let cloudDir = '';
const enrolled = new Map<number, Enrolled>();

/** Starts the cloud (once) and enrolls an agent per size. */
async function prepareCloud(sizes: number[]): Promise<void> {
  if (!cloud) {
    cloudDir = await mkdtemp(join(tmpdir(), 'lvsfleet-bench-clouddb-'));
    cloud = await startCloud({ dataDir: cloudDir, broker: { kind: 'aedes', port: await freePort(), internalPassword: randomPassword() } });
  }
  const admin = cloud.newAdminToken;
  if (!admin) throw new Error('the bench cloud made no admin token');
  for (const n of sizes) if (!enrolled.has(n)) enrolled.set(n, await enroll(cloud, admin, n));
}

async function stopCloud(): Promise<void> {
  await cloud?.close();
  for (const e of enrolled.values()) await rm(e.dir, { recursive: true, force: true });
  if (cloudDir) await rm(cloudDir, { recursive: true, force: true });
}

const agent = (mode: Mode, n: number, nodeArgs: string[], whenIdle?: WhenIdle, bundle = entry) =>
  mode === 'cloud'
    ? cloudAgent(bundle, enrolled.get(n)!, nodeArgs, whenIdle)
    : standalone(bundle, n, mode === 'standalone JSON', nodeArgs, whenIdle, mode === 'standalone restart');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
function row(label: string, runs: Run[], mid?: string): string {
  const f = (k: keyof Run, d = 0) => `${Math.min(...runs.map((r) => r[k])).toFixed(d)} / ${median(runs.map((r) => r[k])).toFixed(d)}`;
  const compiled = mid ? ` (${mid} ${f('compiledMs')})` : '';
  return `${label.padEnd(36)} start → ready ${f('readyMs').padStart(11)} ms, CPU ${f('readyCpuMs').padStart(11)} ms${compiled}, idle RSS ${f('idleRssMiB', 1)} MiB`;
}

const ALL_MODES: Mode[] = ['standalone', 'standalone JSON', 'standalone restart', 'cloud'];
const MODES = opt.modes.split(',').map((m) => m.trim()) as Mode[];
for (const m of MODES) if (!ALL_MODES.includes(m)) throw new Error(`--modes: unknown mode "${m}" (have ${ALL_MODES.join(', ')})`);
const MID: Record<Mode, string> = {
  standalone: 'start-up + spec parse/validate/compile',
  'standalone JSON': 'start-up + spec parse/validate/compile',
  'standalone restart': 'start-up + saved compile read',
  cloud: 'start-up + cache verified',
};

/** Floor and agent rows, interleaved run by run so that all see the same load. */
async function table(title: string, nodeArgs: string[], sizes: number[]): Promise<void> {
  const floors: Run[] = [];
  const key = (m: Mode, n: number, b: number) => `${m} ${n} ${b}`;
  const agents = new Map<string, Run[]>(MODES.flatMap((m) => sizes.flatMap((n) => bundles.map((_, b) => [key(m, n, b), []]))));
  for (let i = 0; i < RUNS; i++) {
    floors.push(await floor(nodeArgs));
    for (const m of MODES)
      for (const n of sizes) for (let b = 0; b < bundles.length; b++) agents.get(key(m, n, b))!.push(await agent(m, n, nodeArgs, undefined, bundles[b]));
  }
  console.log(`${title} (best / median of ${RUNS}; "ready": the floor's first line, the agent's first apply)`);
  console.log(row('floor: node -e', floors));
  for (const m of MODES)
    for (const n of sizes)
      for (let b = 0; b < bundles.length; b++) console.log(row(`${m}, ${n} service${n === 1 ? '' : 's'}${mark(b)}`, agents.get(key(m, n, b))!, MID[m]));
}

/** Waits until `file` exists and has stopped growing (V8 writes a heap snapshot on the process's main thread). */
async function written(file: string): Promise<void> {
  let last = -1;
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const size = await stat(file).then(
      (x) => x.size,
      () => -1,
    );
    if (size > 0 && size === last) return;
    last = size;
  }
  throw new Error(`${file} not written within 150 s`);
}

/** One more start of each agent row with `n` services; once idle, a heap snapshot (SIGUSR2) into `dir`. */
async function heapSnapshots(dir: string, n: number): Promise<void> {
  for (const m of MODES) {
    const sub = join(dir, `${m.replace(' ', '-')}-${n}`);
    await mkdir(sub, { recursive: true });
    const r = await agent(m, n, [...baseArgs, '--heapsnapshot-signal=SIGUSR2', '--diagnostic-dir', sub], async (pid) => {
      process.kill(pid, 'SIGUSR2');
      await new Promise((res) => setTimeout(res, 500));
      const [file] = (await readdir(sub)).filter((f) => f.endsWith('.heapsnapshot'));
      if (!file) throw new Error(`no heap snapshot in ${sub}`);
      await written(join(sub, file));
    });
    console.log(`heap snapshot of the idle ${m} agent with ${n} services (idle RSS ${r.idleRssMiB.toFixed(1)} MiB): ${sub}`);
  }
}

/** One more start of each agent row under --cpu-prof, the profile written at its exit (SIGTERM) into `dir`. */
async function profiles(dir: string, sizes: number[]): Promise<void> {
  for (const m of MODES)
    for (const n of sizes) {
      const name = `${m.replace(' ', '-')}-${n}.cpuprofile`;
      await agent(m, n, [...baseArgs, '--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', name]);
      console.log(`CPU profile of the ${m} start with ${n} services: ${join(dir, name)}`);
    }
}

/** n services of two real servers each, as the planner and the codec rows use them. */
function twoServerTable(n: number): IpvsTable {
  return Array.from({ length: n }, (_, i) => ({
    protocol: 'tcp' as const,
    address: `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`,
    port: 80,
    fwmark: 0,
    scheduler: 'wrr',
    flags: [],
    persistence: null,
    onePacket: false,
    dests: [1, 2].map((j) => ({ address: `127.2.0.${j}`, port: 80, forwarding: 'dr' as const, weight: j, upperThreshold: 0, lowerThreshold: 0 })),
  }));
}

function planFigures(n: number): { planMs: number; lines: number } {
  const desired = twoServerTable(n);
  const t0 = performance.now();
  const text = renderBatch(planIpvs(desired, [], new Set()));
  return { planMs: performance.now() - t0, lines: text.split('\n').length - 1 };
}

/**
 * Reading the kernel's table, which a director does at every apply and every verify pass: the
 * `ipvsadm -Sn` text parsed by the agent's codec, beside JSON.parse of the same table as JSON
 * (V8's native parser, the floor), median of 21 warm runs each.
 */
function readFigures(n: number): { lines: number; parseMs: number; jsonMs: number } {
  const table = twoServerTable(n);
  const save = renderSave(table);
  const json = JSON.stringify(table);
  const median = (f: () => unknown) => {
    const t: number[] = [];
    for (let i = 0; i < 26; i++) {
      const t0 = performance.now();
      f();
      if (i >= 5) t.push(performance.now() - t0);
    }
    return t.sort((a, b) => a - b)[10];
  };
  return { lines: save.split('\n').length - 1, parseMs: median(() => parseSave(save)), jsonMs: median(() => JSON.parse(json)) };
}

const SIZES = [1, 100, 1000];
console.log(`agent: ${entry.endsWith('.mjs') && !entry.includes(join(root, 'bin')) ? 'bundle' : 'tsx'} ${entry}; node ${process.version}; load ${load()}`);
if (opt.compare) console.log(`rows [A]: ${entry}; rows [B]: ${opt.compare}, interleaved run by run`);
try {
  if (MODES.includes('cloud')) await prepareCloud(SIZES);
  await table(`node ${baseArgs.join(' ') || '(no flags)'}`, baseArgs, SIZES);
  if (opt.flags) {
    // V8 flags trade start-up CPU against idle memory; the agent's code is the same under each.
    // --max-semi-space-size=1: a young generation of at most 1 MiB per semi-space (default 16), so
    // the parse of a large spec cannot leave it grown. --min-semi-space-size=16: the reverse, fewer
    // scavenges while the spec is parsed. --no-opt: no optimising compiler (none of its code or
    // memory). --lite-mode: the interpreter only.
    for (const flags of [['--max-semi-space-size=1'], ['--min-semi-space-size=16'], ['--no-opt'], ['--lite-mode']])
      await table(`node ${[...baseArgs, ...flags].join(' ')}`, [...baseArgs, ...flags], SIZES);
  }
  if (opt['cpu-prof']) await profiles(opt['cpu-prof'], [1, 1000]);
  if (opt['heap-snapshot']) await heapSnapshots(opt['heap-snapshot'], 100);
} finally {
  await stopCloud();
}
for (const n of [1000, 10000]) {
  const f = planFigures(n);
  console.log(`planner: ${n} services × 2 real servers from empty → ${f.lines} restore lines in ${f.planMs.toFixed(1)} ms (in-process, plan + render)`);
  const r = readFigures(n);
  console.log(
    `reading the table: ${n} services × 2 real servers, ${r.lines} lines of ipvsadm -Sn parsed in ${r.parseMs.toFixed(2)} ms; the floor, JSON.parse of the same table: ${r.jsonMs.toFixed(2)} ms`,
  );
}
console.log(`load at the end ${load()}`);
