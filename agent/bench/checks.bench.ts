/**
 * bench:checks — 5,000 distinct health-check targets on loopback at a 1 s interval.
 * A child process runs the real servers (TCP listeners, one port per TCP target, and a few HTTP
 * servers whose targets differ by path, so no two probes are identical and none are shared);
 * this process runs startHealthChecker over them for ~20 s and prints checks/s achieved vs
 * expected, CPU% (process.cpuUsage), RSS and event-loop delay. Env: BENCH_TARGETS, BENCH_SECONDS.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ResolvedService } from '#shared/config/node-config.ts';
import { startHealthChecker } from '../src/checks/health-checker.ts';
import { service } from '../src/checks/scheduler-sim.test-support.ts';
import { CHECKERS } from '../src/checks/run-check.ts';
import type { Checker } from '../src/checks/types.ts';

const TARGETS = Number(process.env.BENCH_TARGETS ?? 5000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const HTTP_SERVERS = 25;
const INTERVAL_MS = 1000;

/** Soft limit on open files, from /proc/self/limits (Node has no getrlimit). */
function openFileLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  return Number(line?.trim().split(/\s+/)[3] ?? 1024);
}

async function serve(tcpCount: number): Promise<void> {
  const tcpPorts: number[] = [];
  const httpPorts: number[] = [];
  const listen = (s: net.Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', 4096, () => r((s.address() as AddressInfo).port)));
  for (let i = 0; i < tcpCount; i++) tcpPorts.push(await listen(net.createServer((c) => c.destroy())));
  for (let i = 0; i < HTTP_SERVERS; i++) httpPorts.push(await listen(http.createServer((_req, res) => res.end('ok'))));
  process.send!({ tcpPorts, httpPorts });
  process.on('message', (m) => {
    if (m === 'stop') {
      const u = process.cpuUsage();
      process.send!({ cpuMs: (u.user + u.system) / 1000, rss: process.memoryUsage().rss }, undefined, {}, () => process.exit(0));
    }
  });
}

function services(tcpPorts: number[], httpPorts: number[], httpCount: number): ResolvedService[] {
  const timing = { intervalMs: INTERVAL_MS, timeoutMs: 3000, retries: 1, retryDelayMs: 1000, warmupMs: INTERVAL_MS, address: '127.0.0.1', bindTo: null };
  // Each real server is probed at its own port (service() puts the port into the check).
  const tcp = service('bench-tcp', tcpPorts, { ...timing, type: 'tcp', port: 0, params: {} });
  // HTTP targets: distinct (service, port) keys and distinct paths, so each is its own probe.
  const out: ResolvedService[] = [tcp];
  for (let i = 0; i < httpCount; i++) {
    const port = httpPorts[i % httpPorts.length];
    out.push(service(`bench-http-${i}`, [port], { ...timing, type: 'http', port, params: { urls: [{ path: `/t/${i}`, expectStatus: ['200-299'] }] } }));
  }
  return out;
}

async function main(): Promise<void> {
  const tcpCount = Math.floor(TARGETS / 2);
  const httpCount = TARGETS - tcpCount;
  const limit = openFileLimit();
  const need = tcpCount + HTTP_SERVERS + 200;
  console.log(`open-file limit ${limit} (child needs ~${need} for listeners; this process only its in-flight sockets)`);
  if (limit < need) {
    console.error(`ulimit -n is too low for ${TARGETS} targets: raise it (ulimit -n ${need * 2}) or set BENCH_TARGETS lower`);
    process.exit(2);
  }
  const child = fork(process.argv[1], ['--serve', String(tcpCount)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { tcpPorts, httpPorts } = await new Promise<{ tcpPorts: number[]; httpPorts: number[] }>((r) => child.once('message', (m) => r(m as never)));

  let done = 0;
  let ok = 0;
  const fails = new Map<string, number>();
  const load0 = os.loadavg()[0];
  const counting: Record<string, Checker> = {};
  for (const [type, fn] of Object.entries(CHECKERS)) {
    counting[type] = async (c, s) => {
      const o = await fn(c, s);
      done++;
      if (o.ok) ok++;
      else fails.set(o.detail, (fails.get(o.detail) ?? 0) + 1);
      return o;
    };
  }
  let transitions = 0;
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const hc = startHealthChecker({ services: services(tcpPorts, httpPorts, httpCount), onTransition: () => transitions++, checkers: counting });
  console.log(
    `${TARGETS} targets (${tcpCount} tcp on ${tcpCount} ports, ${httpCount} http on ${HTTP_SERVERS} servers), interval ${INTERVAL_MS} ms, ${SECONDS} s`,
  );

  // Steady state is measured from 2 s on, when every target has had its first (warmup) check.
  // Wall-clock bounded: a starved machine stretches timers, not the run.
  let steadyStart = { t: 0, done: 0, cpu: process.cpuUsage() };
  let last = { t: t0, done: 0 };
  while (performance.now() - t0 < SECONDS * 1000) {
    await new Promise((r) => setTimeout(r, 250));
    const t = performance.now();
    if (steadyStart.t === 0 && t - t0 >= 2000) steadyStart = { t, done, cpu: process.cpuUsage() };
    if (t - last.t >= 5000) {
      console.log(
        `  t=${((t - t0) / 1000).toFixed(0)}s checks/s ${(((done - last.done) * 1000) / (t - last.t)).toFixed(0)}  ok ${ok}/${done}  rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
      );
      last = { t, done };
    }
  }
  const t1 = performance.now();
  const cpu = process.cpuUsage(steadyStart.cpu);
  const cpuAll = process.cpuUsage(cpu0);
  const rss = process.memoryUsage().rss;
  const [doneAtEnd, okAtEnd, failsAtEnd] = [done, ok, new Map(fails)];
  const up = [...hc.state().values()].filter((h) => h.up).length;
  await hc.stop(); // aborts the probes still in flight; they are not counted
  lag.disable();
  child.send('stop');
  const childStats = await new Promise<{ cpuMs: number; rss: number }>((r) => child.once('message', (m) => r(m as never)));

  const steadySec = (t1 - steadyStart.t) / 1000;
  const achieved = (doneAtEnd - steadyStart.done) / steadySec;
  const expected = TARGETS / (INTERVAL_MS / 1000);
  console.log('--- bench:checks ---');
  console.log(`targets                 ${TARGETS} distinct probes (no sharing)`);
  console.log(
    `checks/s (steady)       ${achieved.toFixed(0)} achieved vs ${expected} expected (${((100 * achieved) / expected).toFixed(1)}%); interval is counted from each check's end, as keepalived does`,
  );
  console.log(
    `checks total            ${doneAtEnd} in ${((t1 - t0) / 1000).toFixed(1)} s, ${okAtEnd} ok, ${transitions} transitions, ${up}/${TARGETS} up at the end`,
  );
  console.log(
    `checker CPU             ${((100 * (cpu.user + cpu.system)) / 1000 / (steadySec * 1000)).toFixed(1)}% of one core steady (${((100 * (cpuAll.user + cpuAll.system)) / 1000 / (t1 - t0)).toFixed(1)}% incl. start-up)`,
  );
  console.log(`checker RSS             ${(rss / 2 ** 20).toFixed(0)} MiB`);
  console.log(
    `event-loop delay        p50 ${(lag.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms, max ${(lag.max / 1e6).toFixed(1)} ms`,
  );
  console.log(
    `server child            CPU ${((100 * childStats.cpuMs) / (t1 - t0)).toFixed(1)}% of one core, RSS ${(childStats.rss / 2 ** 20).toFixed(0)} MiB`,
  );
  const topFails = [...failsAtEnd.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([d, n]) => `${n}× ${d}`)
    .join('; ');
  console.log(`failed attempts         ${topFails || 'none'}`);
  console.log(
    `machine                 ${os.cpus().length} cores, load average ${load0.toFixed(1)} at start, ${os.loadavg()[0].toFixed(1)} at end (shared with other work)`,
  );
}

if (process.argv[2] === '--serve') void serve(Number(process.argv[3]));
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
