// npm run bench:cli — how long every `lvsfleet` command takes, started the way users start it
// (`node bin/lvsfleet.mjs`) from the pre-built bundle (cloud/build.mjs, rebuilt here first),
// beside `node -e 0` (Node's own start, the floor) measured in the same run, and one command from
// the sources through tsx (LVSFLEET_FROM_SOURCE=1, what the bundle saves). The API commands talk
// to a `lvsfleet serve` started here on loopback. Prints the median wall and CPU time (user + sys)
// of each and the load average; asserts nothing. CPU time is the figure to read on a busy
// machine, where wall time mostly measures the other processes. `serve` itself is timed by
// `npm run bench:start`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { median } from './figures.ts';

const root = join(import.meta.dirname, '..', '..');
const RUNS = Number(process.env.RUNS ?? 5);
const BUDGET_MS = 300;
const SEEDS = 'examples/seeds-lvs-dr.yaml';
const work = mkdtempSync(join(tmpdir(), 'lvsfleet-bench-cli-'));
const ADMIN = 'lvf_bench_admin_token_0123456789abcdef0123456789';

const built = spawnSync(process.execPath, [join(root, 'cloud/build.mjs')], { cwd: root, encoding: 'utf8' });
if (built.status !== 0) throw new Error(`cloud/build.mjs failed: ${built.stderr}`);

/** One run under bash's `time`: wall and CPU seconds of the node process. */
function once(args: string[], env: Record<string, string>): { wall: number; cpu: number; status: number; stderr: string } {
  const cmd = `TIMEFORMAT='%R %U %S'; time ${args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ')} >/dev/null 2>"${work}/stderr"`;
  const r = spawnSync('bash', ['-c', cmd], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
  const [wall, user, sys] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall, cpu: user + sys, status: r.status ?? -1, stderr: readFileSync(`${work}/stderr`, 'utf8') };
}

const ms = (s: number) => Math.round(s * 1000);

/** Median wall and CPU of RUNS runs after one warm-up; a failing command stops the bench. */
function measure(args: string[], env: Record<string, string>, ok = [0]): { wall: number; cpu: number } {
  once(args, env);
  const runs = Array.from({ length: RUNS }, () => once(args, env));
  const bad = runs.find((r) => !ok.includes(r.status));
  if (bad) throw new Error(`${args.join(' ')} exited ${bad.status}: ${bad.stderr}`);
  return { wall: ms(median(runs.map((r) => r.wall))), cpu: ms(median(runs.map((r) => r.cpu))) };
}

/** Starts `lvsfleet serve` from the bundle on free loopback ports; resolves with its URL and a stop function. */
async function startServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const p = spawn(process.execPath, ['bin/lvsfleet.mjs', 'serve', '--port', '0', '--mqtt-port', '0', '--data-dir', join(work, 'data')], {
    cwd: root,
    env: { ...process.env, LVSFLEET_ADMIN_TOKEN: ADMIN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  p.stdout.on('data', (b) => (out += b));
  p.stderr.on('data', (b) => (out += b));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 120 s:\n${out}`)), 120_000);
    const check = () => {
      const m = /lvsfleet serving on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    p.stdout.on('data', check);
    p.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${out}`)));
  });
  return { url, stop: () => new Promise((done) => (p.once('exit', () => done()), p.kill('SIGTERM'))) };
}

const node = process.execPath;
const cli = (...a: string[]) => [node, 'bin/lvsfleet.mjs', ...a];
const rows: { name: string; wall: number; cpu: number }[] = [];
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const loadBefore = load();

rows.push({ name: 'node -e 0 (floor)', ...measure([node, '-e', '0'], {}) });
const offline: [string, string[]][] = [
  ['--version', cli('--version')],
  ['--help', cli('--help')],
  ['diff --help', cli('diff', '--help')],
  ['validate', cli('validate', '-f', SEEDS)],
  ['validate -o json', cli('validate', '-f', SEEDS, '-o', 'json')],
  ['import keepalived', cli('import', 'keepalived', 'shared/keepalived/fixtures/import/vrrp-sync-group/dr1.conf', '--address', 'dr1=10.6.0.2')],
  ['export keepalived --spec', cli('export', 'keepalived', '--spec', SEEDS, '--node', 'dr1')],
  ['export ipvsadm --spec', cli('export', 'ipvsadm', '--spec', SEEDS, '--node', 'dr1')],
  ['completion bash', cli('completion', 'bash')],
  ['config get-contexts', cli('config', 'get-contexts')],
];
const offEnv = { XDG_CONFIG_HOME: join(work, 'config') };
for (const [name, args] of offline) rows.push({ name, ...measure(args, offEnv) });

const server = await startServer();
try {
  const env = { LVSFLEET_URL: server.url, LVSFLEET_TOKEN: ADMIN };
  const first = once(cli('apply', '-f', SEEDS), env);
  if (first.status !== 0) throw new Error(`apply failed: ${first.stderr}`);
  const rr = join(work, 'rr.yaml');
  const spec = parse(readFileSync(join(root, SEEDS), 'utf8'));
  spec.spec.services[0].scheduler = 'rr';
  writeFileSync(rr, stringify(spec));
  const online: [string, string[], number[]?][] = [
    ['get sites', cli('get', 'sites')],
    ['get nodes -o wide', cli('get', 'nodes', '--site', 'bj-dc1', '-o', 'wide')],
    ['get services -o jsonpath', cli('get', 'services', '--site', 'bj-dc1', '-o', 'jsonpath=$[*].name')],
    ['status', cli('status')],
    ['status SITE --exit-code', cli('status', 'bj-dc1', '--exit-code'), [3]],
    ['diff (changes)', cli('diff', '-f', rr, '--exit-code'), [3]],
    ['apply (unchanged)', cli('apply', '-f', SEEDS)],
    ['audit', cli('audit', '--since', '1h')],
    ['token list', cli('token', 'list')],
    ['token create', cli('token', 'create', 'bench', '--scope', 'viewer', '--expires', '1h')],
    ['webhook list', cli('webhook', 'list')],
    ['enroll-token', cli('enroll-token', '--site', 'bj-dc1', '--node', 'dr1', '--replace')],
    ['export keepalived --site', cli('export', 'keepalived', '--site', 'bj-dc1', '--node', 'dr1')],
  ];
  for (const [name, args, ok] of online) rows.push({ name, ...measure(args, env, ok) });
} finally {
  await server.stop();
}
rows.push({ name: 'import keepalived, sources via tsx', ...measure(offline[5][1], { LVSFLEET_FROM_SOURCE: '1' }) });
rmSync(work, { recursive: true, force: true });

const floor = rows[0];
const width = Math.max(...rows.map((r) => r.name.length));
console.log(
  `lvsfleet CLI start-up, median of ${RUNS} runs each (load average ${loadBefore} before, ${load()} after; budget ${BUDGET_MS} ms wall on a quiet machine)`,
);
console.log(`${'command'.padEnd(width)}  wall ms  cpu ms  wall over node -e 0`);
for (const r of rows)
  console.log(`${r.name.padEnd(width)}  ${String(r.wall).padStart(7)}  ${String(r.cpu).padStart(6)}  ${r === floor ? '' : `+${r.wall - floor.wall} ms`}`);
