// npm run bench:cli — how long `lvsfleet import keepalived` of a small file takes, started the
// way users start it (`node bin/lvsfleet.mjs`): from the pre-built bundle (cloud/build.mjs,
// rebuilt here first) and from the sources through tsx (LVSFLEET_FROM_SOURCE=1). Prints the
// median wall time and the median CPU time (user + sys) of each beside `node -e 0`; asserts nothing. CPU time is
// the figure to read on a busy machine, where wall time mostly measures the other processes.
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const RUNS = Number(process.env.RUNS ?? 7);
const args = ['bin/lvsfleet.mjs', 'import', 'keepalived', 'shared/keepalived/fixtures/import/vrrp-sync-group/dr1.conf', '--address', 'dr1=10.6.0.2'];

const built = spawnSync(process.execPath, [join(root, 'cloud/build.mjs')], { cwd: root, encoding: 'utf8' });
if (built.status !== 0) throw new Error(`cloud/build.mjs failed: ${built.stderr}`);

/** One run under bash's `time`: wall and CPU seconds of the node process (`node -e 0` when `floor`). */
function once(fromSource: boolean, floor = false): { wall: number; cpu: number } {
  const argv = floor ? ['-e', '0'] : args;
  const cmd = `TIMEFORMAT='%R %U %S'; time ${[process.execPath, ...argv].map((a) => `'${a}'`).join(' ')} >/dev/null`;
  const r = spawnSync('bash', ['-c', cmd], { cwd: root, encoding: 'utf8', env: { ...process.env, LVSFLEET_FROM_SOURCE: fromSource ? '1' : '0' } });
  if (r.status !== 0) throw new Error(`lvsfleet import failed: ${r.stderr}`);
  const [wall, user, sys] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall, cpu: user + sys };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (s: number) => `${Math.round(s * 1000)} ms`;

// The floor beside the figures: Node starting and doing nothing, measured the same way in
// this run. The target for a small import from the pre-built bundle is 500 ms wall on a quiet machine.
for (const [label, fromSource, floor] of [
  ['node -e 0, the floor', false, true],
  ['lvsfleet import keepalived, pre-built bundle (target ≤ 500 ms)', false, false],
  ['lvsfleet import keepalived, sources via tsx', true, false],
] as const) {
  once(fromSource, floor); // warm the file cache (and tsx's own cache)
  const runs = Array.from({ length: RUNS }, () => once(fromSource, floor));
  console.log(`${label}: median wall ${ms(median(runs.map((r) => r.wall)))}, median CPU ${ms(median(runs.map((r) => r.cpu)))} over ${RUNS} runs`);
}
const [load1] = loadavg();
console.log(`load average (1 min) at the end: ${load1.toFixed(2)} on ${availableParallelism()} cores`);
