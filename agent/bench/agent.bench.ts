// npm run bench:agent — idle RSS and time from start to first apply, standalone spec, dry-run,
// beside the floor measured in the same run: a bare `node -e` process (time to its first line of
// output, its idle RSS). Prints figures; asserts nothing. Uses dist/lvsfleet-agent.mjs when built
// (what hosts run), else bin/lvsfleet-agent.mjs (through tsx, slower to start).
//   --bundle FILE      run another build of the agent (e.g. one made from an older commit)
//   --runs N           runs per row (default 3; best and median printed)
//   --node-args "…"    V8/Node flags for the agent and the floor alike (e.g. --max-semi-space-size=1)
//   --flags            also print every row under a few V8 flags (memory against start-up CPU)
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { renderBatch } from '#shared/ipvs/codec.ts';
import { planIpvs } from '../src/ipvs/plan.ts';
import type { IpvsTable } from '#shared/ipvs/model.ts';

const { values: opt } = parseArgs({
  options: {
    bundle: { type: 'string' },
    runs: { type: 'string', default: '3' },
    'node-args': { type: 'string', default: '' },
    flags: { type: 'boolean', default: false },
  },
});
const root = join(import.meta.dirname, '..', '..');
const built = join(root, 'dist', 'lvsfleet-agent.mjs');
const entry = opt.bundle ?? (existsSync(built) ? built : join(root, 'bin', 'lvsfleet-agent.mjs'));
const RUNS = Number(opt.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs: expected a positive integer, got "${opt.runs}"`);
const baseArgs = opt['node-args'].split(/\s+/).filter(Boolean);
/** How long a process sits after its first apply (or first line) before its RSS is read: timers only by then. */
const IDLE_MS = 3000;

/** A site with `n` services of two real servers each, all on loopback addresses (never probed: dry-run). */
function spec(n: number): string {
  const lines = [
    'apiVersion: lvsfleet/v1',
    'kind: Site',
    'metadata: { name: bench }',
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
async function measure(args: string[], done: RegExp, mid?: RegExp): Promise<Run> {
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
    await new Promise((r) => setTimeout(r, IDLE_MS));
    return { readyMs, readyCpuMs, compiledMs, idleRssMiB: (await rssKiB(p.pid!)) / 1024 };
  } finally {
    p.kill('SIGTERM');
    if (p.exitCode === null && p.signalCode === null) await new Promise((r) => p.on('close', r));
  }
}

/** A bare Node process: its first line of output, then idle. The least any Node program costs here. */
function floor(nodeArgs: string[]): Promise<Run> {
  return measure([...nodeArgs, '-e', "process.stdout.write('ready\\n'); setInterval(() => {}, 1 << 30)"], /ready/);
}

async function agent(services: number, nodeArgs: string[]): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'lvsfleet-bench-'));
  try {
    const file = join(dir, 'site.yaml');
    await writeFile(file, spec(services));
    const args = [...nodeArgs, entry, 'run', '--spec', file, '--node', 'd1', '--dataplane', 'dry-run', '--state-dir', join(dir, 'state')];
    // " standalone: " is logged once the spec is parsed, validated and compiled, before the engine starts.
    return await measure(args, /apply revision 1 (succeeded|failed)/, / standalone: /);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
function row(label: string, runs: Run[], withCompile: boolean): string {
  const f = (k: keyof Run, d = 0) => `${Math.min(...runs.map((r) => r[k])).toFixed(d)} / ${median(runs.map((r) => r[k])).toFixed(d)}`;
  const compiled = withCompile ? ` (start-up + spec parse/validate/compile ${f('compiledMs')})` : '';
  return `${label.padEnd(22)} start → ready ${f('readyMs').padStart(11)} ms, CPU ${f('readyCpuMs').padStart(11)} ms${compiled}, idle RSS ${f('idleRssMiB', 1)} MiB`;
}

/** Floor and agent rows, interleaved run by run so that both see the same load. */
async function table(title: string, nodeArgs: string[], sizes: number[]): Promise<void> {
  const floors: Run[] = [];
  const agents = new Map<number, Run[]>(sizes.map((n) => [n, []]));
  for (let i = 0; i < RUNS; i++) {
    floors.push(await floor(nodeArgs));
    for (const n of sizes) agents.get(n)!.push(await agent(n, nodeArgs));
  }
  console.log(`${title} (best / median of ${RUNS}; "ready": the floor's first line, the agent's first apply)`);
  console.log(row('floor: node -e', floors, false));
  for (const n of sizes) console.log(row(`agent, ${n} service${n === 1 ? '' : 's'}`, agents.get(n)!, true));
}

function planFigures(n: number): { planMs: number; lines: number } {
  const desired: IpvsTable = Array.from({ length: n }, (_, i) => ({
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
  const t0 = performance.now();
  const text = renderBatch(planIpvs(desired, [], new Set()));
  return { planMs: performance.now() - t0, lines: text.split('\n').length - 1 };
}

console.log(`agent: ${entry.endsWith('.mjs') && !entry.includes(join(root, 'bin')) ? 'bundle' : 'tsx'} ${entry}; node ${process.version}; load ${load()}`);
await table(`node ${baseArgs.join(' ') || '(no flags)'}`, baseArgs, [1, 100, 1000]);
if (opt.flags) {
  // V8 flags trade start-up CPU against idle memory; the agent's code is the same under each.
  // --max-semi-space-size=1: a young generation of at most 1 MiB per semi-space (default 16), so
  // the parse of a large spec cannot leave it grown. --min-semi-space-size=16: the reverse, fewer
  // scavenges while the spec is parsed. --no-opt: no optimising compiler (none of its code or
  // memory). --lite-mode: the interpreter only.
  for (const flags of [['--max-semi-space-size=1'], ['--min-semi-space-size=16'], ['--no-opt'], ['--lite-mode']])
    await table(`node ${[...baseArgs, ...flags].join(' ')}`, [...baseArgs, ...flags], [1, 100, 1000]);
}
for (const n of [1000, 10000]) {
  const f = planFigures(n);
  console.log(`planner: ${n} services × 2 real servers from empty → ${f.lines} restore lines in ${f.planMs.toFixed(1)} ms (in-process, plan + render)`);
}
console.log(`load at the end ${load()}`);
