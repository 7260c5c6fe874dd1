import { performance } from 'node:perf_hooks';

/**
 * The points of a failover the benchmark's breakdown is made of. Taking over: `bfd` (a session
 * left Up), `prio0-rcvd` (the master's priority-0 advert), `state` (a VRRP transition),
 * `vip-added`, `garp-sent`. Resigning: `signal` (the stop handler ran), `bfd-admin-down` (AdminDown
 * sent), `prio0-sent`, `vip-removed`.
 */
export type FailoverPoint = 'signal' | 'bfd' | 'bfd-admin-down' | 'prio0-rcvd' | 'prio0-sent' | 'state' | 'vip-added' | 'vip-removed' | 'garp-sent';

/** Writes one mark; null when marks are off (the default), so a call site costs one null check. */
export type FailoverMark = ((point: FailoverPoint, detail: string) => void) | null;

/** The environment variable that turns the marks on (`1`). */
export const TIMING_ENV = 'LVSFLEET_DEBUG_TIMING';

/**
 * The epoch in ms from the monotonic clock (performance.now over a fixed origin): sub-millisecond,
 * never stepped by NTP during a run, and comparable with other processes' wall-clock stamps (the
 * lab client's `ping -D`), which is what a breakdown across three namespaces needs.
 */
const epochMs = () => performance.timeOrigin + performance.now();

/** One debug line: `timing <epoch ms> <point> <detail>` (parsed by `parseTimingLine`). */
export function timingLine(at: number, point: FailoverPoint, detail: string): string {
  return `timing ${at.toFixed(3)} ${point} ${detail}`;
}

/** The mark function for `env`: off unless LVSFLEET_DEBUG_TIMING=1; lines go straight to `write`, not through the log's formatting. */
export function failoverMark(env: NodeJS.ProcessEnv, write: (line: string) => void): FailoverMark {
  if (env[TIMING_ENV] !== '1') return null;
  return (point, detail) => write(`${timingLine(epochMs(), point, detail)}\n`);
}

/** The process's marks (stdout), decided once at start-up. */
export const mark: FailoverMark = failoverMark(process.env, (l) => process.stdout.write(l));

export interface TimingMarkLine {
  at: number;
  point: FailoverPoint;
  detail: string;
}

const POINTS = new Set<string>(['signal', 'bfd', 'bfd-admin-down', 'prio0-rcvd', 'prio0-sent', 'state', 'vip-added', 'vip-removed', 'garp-sent']);

/** Reads a line written by a mark (anywhere in the line: a runner may prefix its own stamp), or null. */
export function parseTimingLine(line: string): TimingMarkLine | null {
  const m = /(?:^|\s)timing (\d+\.\d{3}) (\S+) ?(.*)$/.exec(line);
  if (!m || !POINTS.has(m[2])) return null;
  return { at: Number(m[1]), point: m[2] as FailoverPoint, detail: m[3] };
}
