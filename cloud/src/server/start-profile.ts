/**
 * Stage marks of a server start (`LVSFLEET_START_PROFILE=1 lvsfleet serve`): for each stage the
 * wall time, the CPU time (user+sys, less sensitive to a busy machine than wall time) and the
 * resident memory it added. Wall and CPU time count from the process's start, so the first mark
 * also shows what Node and loading the code cost before the server's first line ran.
 */

/** One reading of the process: all absolute, since the process started. */
export interface Sample {
  wallMs: number;
  cpuMs: number;
  rssBytes: number;
  heapBytes: number;
}

interface StageCost {
  stage: string;
  wallMs: number;
  cpuMs: number;
  rssBytes: number;
  heapBytes: number;
  /** The process's RSS after the stage. */
  totalRssBytes: number;
}

function processSample(): Sample {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return { wallMs: performance.now(), cpuMs: (cpu.user + cpu.system) / 1000, rssBytes: mem.rss, heapBytes: mem.heapUsed };
}

/** Zero at the process's start: performance.now() and process.cpuUsage() count from there, and memory is what a bare Node process has; the first stage is charged all of it. */
const PROCESS_START: Sample = { wallMs: 0, cpuMs: 0, rssBytes: 0, heapBytes: 0 };

/** The cost of a stage: the difference of two samples. */
function stageCost(stage: string, before: Sample, after: Sample): StageCost {
  return {
    stage,
    wallMs: after.wallMs - before.wallMs,
    cpuMs: after.cpuMs - before.cpuMs,
    rssBytes: after.rssBytes - before.rssBytes,
    heapBytes: after.heapBytes - before.heapBytes,
    totalRssBytes: after.rssBytes,
  };
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

/** One log line for a stage. */
export function formatStage(c: StageCost): string {
  const sign = (n: number) => (n >= 0 ? `+${mib(n)}` : mib(n));
  return `start profile: ${c.stage}: ${c.wallMs.toFixed(0)} ms, cpu ${c.cpuMs.toFixed(0)} ms, rss ${sign(c.rssBytes)} MiB (now ${mib(c.totalRssBytes)}), heap ${sign(c.heapBytes)} MiB`;
}

/** Marks stages in turn; `mark(stage)` charges everything since the previous mark to `stage`. */
export interface StartProfile {
  mark(stage: string): void;
}

/** A profile that logs each stage, or does nothing when not enabled. */
export function startProfile(enabled: boolean, log: (line: string) => void, sample: () => Sample = processSample, first = PROCESS_START): StartProfile {
  if (!enabled) return { mark: () => {} };
  let last = first;
  return {
    mark(stage) {
      const now = sample();
      log(formatStage(stageCost(stage, last, now)));
      last = now;
    },
  };
}
