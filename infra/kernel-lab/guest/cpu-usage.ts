/**
 * Where the guest's emulated CPUs went during a scenario. A starved guest makes timers late and
 * requests time out; this names who was using the CPU, from /proc/stat and each process's
 * utime + stime, so a late failure can be told apart from an agent that is slow by itself.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuSample {
  at: number;
  /** Jiffies (USER_HZ) over all CPUs: busy = everything but idle and iowait. */
  busy: number;
  total: number;
  procs: Map<number, { label: string; ticks: number; childTicks: number }>;
}

/** A process's name for the report: an agent by its node, otherwise its command. */
export function procLabel(comm: string, argv: string[]): string {
  const node = argv.indexOf('--node');
  if (node >= 0 && argv[node + 1]) return `agent ${argv[node + 1]}`;
  const config = argv.indexOf('--config');
  if (config >= 0 && argv[config + 1]) return `agent ${argv[config + 1].replace(/^.*\//, '')}`;
  const i = argv.indexOf('-i'); // keepalived -i k1
  if (comm.startsWith('keepalived') && i >= 0 && argv[i + 1]) return `keepalived ${argv[i + 1]}`;
  const script = argv.find((a) => /\.(m?js|ts)$/.test(a));
  return script ? `${comm} ${script.replace(/^.*\//, '')}` : comm;
}

/**
 * From /proc/PID/stat (the command in parentheses may hold spaces): utime + stime (fields 14-15),
 * the process's own CPU, and cutime + cstime (16-17), that of the children it has waited for. An
 * agent's `ip`, `ipvsadm` and `sysctl` processes end between two samples, so only their parent's
 * count shows them; the driver's also holds each daemon it stopped, its whole life.
 */
export function parseProcStat(text: string): { comm: string; ticks: number; childTicks: number } | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  const ticks = Number(rest[11]) + Number(rest[12]);
  const childTicks = Number(rest[13]) + Number(rest[14]);
  return Number.isFinite(ticks) && Number.isFinite(childTicks) ? { comm: text.slice(open + 1, close), ticks, childTicks } : null;
}

/** The first line of /proc/stat: all CPUs' jiffies. */
export function parseCpuLine(text: string): { busy: number; total: number } {
  const f = text.split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // user…steal; guest time is inside user
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
}

export function sampleCpu(now = Date.now()): CpuSample {
  const procs = new Map<number, { label: string; ticks: number; childTicks: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = parseProcStat(readFileSync(`/proc/${d}/stat`, 'utf8'));
      if (!st) continue;
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').filter(Boolean);
      procs.set(Number(d), { label: procLabel(st.comm, argv), ticks: st.ticks, childTicks: st.childTicks });
    } catch {
      // gone between readdir and read
    }
  }
  return { at: now, ...parseCpuLine(readFileSync('/proc/stat', 'utf8')), procs };
}

/**
 * One line: how many CPUs were busy on average between two samples, and the processes that used
 * the most CPU seconds (summed by label), with the part their ended children used. A process that
 * ended between the samples is missing (or, once waited for, in its parent's children).
 */
export function cpuReport(a: CpuSample, b: CpuSample, cpus: number, top = 6): string {
  const seconds = (b.at - a.at) / 1000;
  const share = b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
  const used = new Map<string, { own: number; children: number }>();
  for (const [pid, p] of b.procs) {
    const before = a.procs.get(pid);
    const same = before && before.label === p.label;
    const own = same ? p.ticks - before.ticks : p.ticks;
    const children = same ? p.childTicks - before.childTicks : p.childTicks;
    if (own + children <= 0) continue;
    const u = used.get(p.label) ?? { own: 0, children: 0 };
    used.set(p.label, { own: u.own + own, children: u.children + children });
  }
  const s = (t: number) => (t / 100).toFixed(1);
  const list = [...used]
    .sort((x, y) => y[1].own + y[1].children - (x[1].own + x[1].children))
    .slice(0, top)
    .map(([label, u]) => `${label} ${s(u.own + u.children)} s${u.children > 0 ? ` (${s(u.children)} s in ended children)` : ''}`);
  return `${(share * cpus).toFixed(2)} of ${cpus} CPUs busy over ${seconds.toFixed(0)} s; most: ${list.join(', ') || 'nothing measured'}`;
}
