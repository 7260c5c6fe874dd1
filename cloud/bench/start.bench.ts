/**
 * npm run bench:start — what `npm start` costs a newcomer: the time from spawning
 * `lvsfleet serve` on a new data directory to `/healthz` answering (first start), the same on the
 * now existing one (later start), and the server's resident memory after 5 s idle: bare, with
 * the seeds' site applied and two dry-run agents (dr1, dr2) connected and in sync, and after
 * applying a 1,000-node site. Printed beside `node -e 0` measured in the same run, with the load
 * averages, since the machine may be busy, and with the CPU time (user+sys) each start took, which a
 * busy machine stretches far less than wall time. Whether the first start found the pre-initialised
 * PGlite template (`npm run db:template`) is printed too. The CLI bundle is built first, as `npm ci`
 * does, so `serve` runs from it (LVSFLEET_FROM_SOURCE=1 measures the TypeScript sources through
 * tsx instead). No assertions on time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MIGRATIONS_DIR } from '../src/db/client.ts';
import { templateFile } from '../src/db/pglite-template.ts';
import { bigSiteSpec } from './big-site.ts';
import { cpuMs, procKb, START_ENV } from './serve-process.ts';
import { freePorts } from '../test/net.test-support.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'bin/lvsfleet.mjs');
const AGENT = join(ROOT, 'bin/lvsfleet-agent.mjs');
const SEEDS = readFileSync(join(ROOT, 'examples/seeds-lvs-dr.yaml'), 'utf8');
const IDLE_MS = 5000;
const work = mkdtempSync(join(tmpdir(), 'lvsfleet-bench-start-'));
const children: ChildProcess[] = [];

const mib = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch {
      // not up yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** `node -e 0`: wall time of the whole process, and the RSS and CPU time of a bare Node (as it exits). */
function bareNode(): { ms: number; rssKb: number; cpuMs: number } {
  const t = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  const ms = performance.now() - t;
  const script = "process.on('exit', () => { const c = process.cpuUsage(); console.log(process.memoryUsage().rss, (c.user + c.system) / 1000); })";
  const [rss, cpu] = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' }).stdout.trim().split(' ').map(Number);
  return { ms, rssKb: rss / 1024, cpuMs: cpu };
}

interface Serve {
  proc: ChildProcess;
  url: string;
  upMs: number;
  /** CPU time (user+sys) the server used until /healthz answered. */
  upCpuMs: number;
  stderr: () => string;
}

async function serve(dataDir: string): Promise<Serve> {
  const [port, mqttPort] = await freePorts(2);
  const started = performance.now();
  const proc = spawn(process.execPath, [CLI, 'serve', '--data-dir', dataDir, '--port', String(port), '--mqtt-port', String(mqttPort)], {
    env: { ...process.env, ...START_ENV },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(proc);
  let stderr = '';
  proc.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const url = `http://127.0.0.1:${port}`;
  await until('/healthz', async () => {
    if (proc.exitCode !== null) throw new Error(`serve exited ${proc.exitCode}: ${stderr}`);
    return (await fetch(`${url}/healthz`)).ok ? true : undefined;
  }).catch((err: Error) => {
    throw new Error(`${err.message}\n${stderr}`);
  });
  const upMs = performance.now() - started;
  return { proc, url, upMs, upCpuMs: cpuMs(proc.pid!), stderr: () => stderr };
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGINT');
  await exited;
}

async function idleRss(p: ChildProcess): Promise<number> {
  await sleep(IDLE_MS);
  return procKb(p.pid!, 'VmRSS');
}

async function api(s: Serve, token: string, method: string, path: string, body?: string, type = 'application/json'): Promise<unknown> {
  // A fresh connection: a kept-alive one may be closing on the server's 5 s keep-alive timeout.
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, connection: 'close', ...(body ? { 'content-type': type } : {}) },
    body,
  }).catch((err: Error) => {
    throw new Error(`${method} ${path}: ${err.message}; server exit ${s.proc.exitCode}\n${s.stderr()}`);
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}\n${s.stderr()}`);
  return res.json();
}

/** Enrolls `node` of bj-dc1 and runs its agent in dry-run until the end of the bench. */
async function agent(s: Serve, token: string, node: string): Promise<void> {
  const { token: one } = (await api(s, token, 'POST', `/v1/sites/bj-dc1/nodes/${node}/enrollment`)) as { token: string };
  const dir = join(work, `agent-${node}`);
  const config = join(dir, 'agent.json');
  const enrolled = spawnSync(process.execPath, [AGENT, 'enroll', '--url', s.url, '--token', one, '--config', config, '--state-dir', dir], { encoding: 'utf8' });
  if (enrolled.status !== 0) throw new Error(`enroll ${node}: ${enrolled.stderr}`);
  children.push(spawn(process.execPath, [AGENT, 'run', '--config', config, '--state-dir', dir, '--dataplane', 'dry-run'], { stdio: 'ignore' }));
}

async function inSync(s: Serve, token: string, site: string, revision: number, nodes: string[]): Promise<void> {
  await until(`${nodes.join(', ')} at revision ${revision}`, async () => {
    const { nodes: rows } = (await api(s, token, 'GET', `/v1/sites/${site}/nodes`)) as { nodes: { name: string; appliedRevision: number | null }[] };
    return nodes.every((n) => rows.find((r) => r.name === n)?.appliedRevision === revision) ? true : undefined;
  });
}

try {
  const fromSource = process.env.LVSFLEET_FROM_SOURCE === '1';
  if (!fromSource) {
    const built = spawnSync(process.execPath, [join(ROOT, 'cloud/build.mjs')], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`cloud/build.mjs: ${built.stderr}`);
  }
  const loadBefore = load();
  const bare = bareNode();
  const dataDir = join(work, 'data');
  const template = existsSync(templateFile(MIGRATIONS_DIR));

  const first = await serve(dataDir);
  const firstIdle = await idleRss(first.proc);
  const firstPeak = procKb(first.proc.pid!, 'VmHWM');
  await stop(first.proc);

  const later = await serve(dataDir);
  const laterIdle = await idleRss(later.proc);
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  await api(later, token, 'PUT', '/v1/sites/bj-dc1/spec', SEEDS, 'application/yaml');
  await agent(later, token, 'dr1');
  await agent(later, token, 'dr2');
  await inSync(later, token, 'bj-dc1', 1, ['dr1', 'dr2']);
  const seedsIdle = await idleRss(later.proc);
  const bigStart = performance.now();
  const bigCpuStart = cpuMs(later.proc.pid!);
  await api(later, token, 'PUT', '/v1/sites/big/spec', JSON.stringify(bigSiteSpec('big', 1000)));
  await until('the 1,000-node site published', async () => {
    const text = await (await fetch(`${later.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    return /^lvsfleet_outbox_pending 0$/m.test(text) ? true : undefined;
  });
  const bigMs = performance.now() - bigStart;
  const bigCpuMs = cpuMs(later.proc.pid!) - bigCpuStart;
  const bigIdle = await idleRss(later.proc);
  const laterPeak = procKb(later.proc.pid!, 'VmHWM');

  const rows: [string, string, string, string][] = [
    ['node -e 0', secs(bare.ms), secs(bare.cpuMs), mib(bare.rssKb)],
    [
      `first start (${template ? 'from the PGlite template' : 'no template: initdb'})`,
      secs(first.upMs),
      secs(first.upCpuMs),
      `${mib(firstIdle)} idle, peak ${mib(firstPeak)}`,
    ],
    ['later start', secs(later.upMs), secs(later.upCpuMs), `${mib(laterIdle)} idle`],
    ["  + seeds' site, dr1 and dr2 in sync", '', '', `${mib(seedsIdle)} idle`],
    ['  + a 1,000-node site applied and published', secs(bigMs), secs(bigCpuMs), `${mib(bigIdle)} idle, peak ${mib(laterPeak)}`],
  ];
  console.log(
    `lvsfleet serve (${fromSource ? 'TypeScript sources through tsx' : 'pre-built bundle'}; env as npm start: ${JSON.stringify(START_ENV)}) start-up and memory (RSS after ${IDLE_MS / 1000} s idle); ` +
      `load average ${loadBefore} before, ${load()} after`,
  );
  console.log(`  ${''.padEnd(48)} ${'wall'.padStart(8)} ${'cpu'.padStart(8)}  memory`);
  for (const [what, time, cpu, mem] of rows) console.log(`  ${what.padEnd(48)} ${time.padStart(8)} ${cpu.padStart(8)}  ${mem}`);
} finally {
  for (const c of children.reverse()) await stop(c);
  rmSync(work, { recursive: true, force: true });
}
