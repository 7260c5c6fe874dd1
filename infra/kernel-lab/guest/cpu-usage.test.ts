import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cpuReport, parseCpuLine, parseProcStat, procLabel, sampleCpu, type CpuSample } from './cpu-usage.ts';

/** Source of a loop that runs until this process has used `ms` of CPU (user + system) since it began. */
const BURN = (ms: number) => `const u0 = process.cpuUsage(); for (;;) { const u = process.cpuUsage(u0); if (u.user + u.system >= ${ms * 1000}) break; }`;

describe('guest CPU accounting', () => {
  it("reads a process's own ticks and its waited-for children's, past a command holding spaces and parentheses", () => {
    const line = '4242 (node (x) y) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 37 8 5 20 0 11 0 100 1000000 5000';
    expect(parseProcStat(line)).toEqual({ comm: 'node (x) y', ticks: 287, childTicks: 13 });
    expect(parseProcStat('garbage')).toBeNull();
  });
  it('counts idle and iowait as not busy', () => {
    expect(parseCpuLine('cpu  100 5 50 800 40 3 2 0 0 0\ncpu0 1 2 3')).toEqual({ busy: 160, total: 1000 });
  });
  it('names agents by node, keepalived by instance, scripts by file', () => {
    expect(procLabel('node', ['node', '/lvsfleet-agent.mjs', 'run', '--spec', '/s.yaml', '--node', 'd1'])).toBe('agent d1');
    expect(procLabel('node', ['node', '/lvsfleet-agent.mjs', 'run', '--config', '/run/lab/e1.json'])).toBe('agent e1.json');
    expect(procLabel('keepalived', ['keepalived', '-n', '-f', '/lab/k.conf', '-i', 'k1'])).toBe('keepalived k1');
    expect(procLabel('node', ['node', '/lab/client.mjs'])).toBe('node client.mjs');
    expect(procLabel('ipvsadm', ['ipvsadm', '-Ln'])).toBe('ipvsadm');
  });
  it('sums by label, counts a process started meanwhile whole, and a reused pid as new', () => {
    const a: CpuSample = {
      at: 0,
      busy: 1000,
      total: 4000,
      procs: new Map([
        [1, { label: 'agent d1', ticks: 500, childTicks: 20 }],
        [2, { label: 'agent d2', ticks: 100, childTicks: 0 }],
        [3, { label: 'old', ticks: 900, childTicks: 0 }],
      ]),
    };
    const b: CpuSample = {
      at: 10_000,
      busy: 2500,
      total: 6000,
      procs: new Map([
        [1, { label: 'agent d1', ticks: 800, childTicks: 70 }],
        [2, { label: 'agent d2', ticks: 100, childTicks: 0 }],
        [3, { label: 'ipvsadm', ticks: 40, childTicks: 0 }],
        [4, { label: 'ipvsadm', ticks: 60, childTicks: 0 }],
      ]),
    };
    expect(cpuReport(a, b, 2)).toBe('1.50 of 2 CPUs busy over 10 s; most: agent d1 3.5 s (0.5 s in ended children), ipvsadm 1.0 s');
  });
  it('sees a busy process on this machine', async () => {
    const a = sampleCpu();
    // Busy for 300 ms of its own CPU (not of the clock: on a loaded machine it gets less than the
    // wall time), then says so and stays until killed: it is sampled while it still exists.
    const busy = `${BURN(300)} console.log('done'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', busy, 'cpu-usage-probe.js'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => child.stdout!.once('data', r));
    const b = sampleCpu();
    child.kill();
    expect(b.procs.get(child.pid!)?.ticks).toBeGreaterThanOrEqual(20);
    expect(cpuReport(a, b, 2)).toMatch(/CPUs busy over \d+ s; most: .*\d\.\d s/);
  });
  it("counts a child's CPU in its parent once the parent has waited for it", async () => {
    // The parent burns nothing itself: it runs a child busy for 350 ms of CPU, waits for it, then reports.
    const parent = `
      const { spawnSync } = require('node:child_process');
      spawnSync(process.execPath, ['-e', ${JSON.stringify(BURN(350))}]);
      console.log('done'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', parent], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => child.stdout!.once('data', r));
    const s = sampleCpu();
    child.kill();
    // The child alone was 35 ticks or more (USER_HZ 100), counted as the parent's ended children.
    expect(s.procs.get(child.pid!)?.childTicks).toBeGreaterThanOrEqual(30);
    expect(s.procs.get(child.pid!)?.ticks).toBeLessThan(30);
  });
});
