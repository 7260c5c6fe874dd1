// npm run bench:agent — idle RSS and time from start to first apply, standalone spec, dry-run.
// Prints figures; asserts nothing. Uses dist/lvsfleet-agent.mjs when built (what hosts run),
// else bin/lvsfleet-agent.mjs (through tsx, slower to start).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { renderBatch } from '#shared/ipvs/codec.ts';
import { planIpvs } from '../src/ipvs/plan.ts';
import type { IpvsTable } from '#shared/ipvs/model.ts';

const root = join(import.meta.dirname, '..', '..');
const bundle = join(root, 'dist', 'lvsfleet-agent.mjs');
const entry = existsSync(bundle) ? bundle : join(root, 'bin', 'lvsfleet-agent.mjs');

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

async function rssKiB(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function runOnce(services: number): Promise<{ firstApplyMs: number; compiledMs: number; idleRssMiB: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'lvsfleet-bench-'));
  try {
    const file = join(dir, 'site.yaml');
    await writeFile(file, spec(services));
    const t0 = performance.now();
    const p = spawn(process.execPath, [entry, 'run', '--spec', file, '--node', 'd1', '--dataplane', 'dry-run', '--state-dir', join(dir, 'state')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buf = '';
    let compiledMs = NaN;
    const firstApplyMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no apply within 120 s')), 120_000);
      p.stdout.on('data', (b: Buffer) => {
        buf = (buf + b.toString()).slice(-4096);
        // logged once the spec is parsed, validated and compiled, before the engine starts
        if (Number.isNaN(compiledMs) && / standalone: /.test(buf)) compiledMs = performance.now() - t0;
        if (/apply revision 1 (succeeded|failed)/.test(buf)) {
          clearTimeout(timer);
          resolve(performance.now() - t0);
        }
      });
      p.on('exit', (c) => reject(new Error(`agent exited ${c}`)));
    });
    await new Promise((r) => setTimeout(r, 3000)); // idle: timers only
    const idleRssMiB = (await rssKiB(p.pid!)) / 1024;
    p.kill('SIGTERM');
    await new Promise((r) => p.on('close', r));
    return { firstApplyMs, compiledMs, idleRssMiB };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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

console.log(`agent: ${entry.endsWith('.mjs') && entry.includes('dist') ? 'bundle' : 'tsx'} ${entry}`);
for (const n of [1, 100, 1000]) {
  const runs: { firstApplyMs: number; compiledMs: number; idleRssMiB: number }[] = [];
  for (let i = 0; i < 2; i++) runs.push(await runOnce(n));
  const best = (k: 'firstApplyMs' | 'compiledMs' | 'idleRssMiB') => Math.min(...runs.map((r) => r[k]));
  console.log(
    `services ${String(n).padStart(5)}: start→first apply ${best('firstApplyMs').toFixed(0)} ms (best of ${runs.length}; ${runs.map((r) => r.firstApplyMs.toFixed(0)).join(', ')}; ` +
      `of which start-up + spec parse/validate/compile ${best('compiledMs').toFixed(0)} ms), idle RSS ${best('idleRssMiB').toFixed(1)} MiB`,
  );
}
for (const n of [1000, 10000]) {
  const f = planFigures(n);
  console.log(`planner: ${n} services × 2 real servers from empty → ${f.lines} restore lines in ${f.planMs.toFixed(1)} ms (in-process, plan + render)`);
}
