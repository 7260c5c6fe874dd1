import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the benches that run `lvsfleet serve` in its own process read of it, and how they start it. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The environment `npm start` gives the server: the `VAR=value` words that begin its script (glibc's malloc settings). */
const START_WORDS = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(/\s+/);
export const START_ENV: Record<string, string> = Object.fromEntries(
  START_WORDS.slice(
    0,
    START_WORDS.findIndex((w) => !/^[A-Z_]+=/.test(w)),
  ).map((w) => w.split('=', 2)),
);

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** CPU time (user+sys) a process has used so far, in ms (/proc/PID/stat fields 14 and 15). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** A field of /proc/PID/status in kB (VmRSS now, VmHWM the peak). */
export function procKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} for ${pid}`);
  return Number(m[1]);
}
