/**
 * npm run bench:connect-flood — `/healthz` latency of a `lvsfleet serve` (its own process, PGlite,
 * embedded broker) while 200 MQTT CONNECTs a second with a real node's username and a wrong
 * password arrive, each with a new password. Node passwords are checked with scrypt, so without
 * the broker's failed-login throttle every CONNECT would cost one. Prints p50/p99 of /healthz with
 * no flood and during the flood in the same run, and how many CONNECTs reached the scrypt check.
 * The flood comes from a second process, so the probe's timings are the server's.
 * Loopback only; no assertions on time.
 */
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect as tcpConnect } from 'node:net';

const BIN = fileURLToPath(new URL('../../bin/lvsfleet.mjs', import.meta.url));
const SEEDS = fileURLToPath(new URL('../../examples/seeds-lvs-dr.yaml', import.meta.url));
const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 10_000);
const CONNECTS_PER_S = 200;

/**
 * The flood runs in a process of its own (this file with `--flood HOST PORT USER MS`): opening 200
 * sockets a second in the probing process would delay its own /healthz timings and measure the
 * client, not the server. Answers {sent, refused, rate} over IPC.
 */
if (process.argv[2] === '--flood') {
  const [host, port, username, ms] = process.argv.slice(3);
  let sent = 0;
  let refused = 0;
  const start = performance.now();
  const flood = setInterval(() => {
    for (let i = 0; i < CONNECTS_PER_S / 10; i++) {
      sent++;
      const sock = tcpConnect(Number(port), host, () => sock.write(connectPacket(username, `wrong-${sent}`)));
      sock.once('data', (d) => {
        if (d[0] === 0x20 && d[3] !== 0) refused++; // CONNACK with a refusal code
        sock.destroy();
      });
      sock.once('error', () => sock.destroy());
      sock.setTimeout(5_000, () => sock.destroy());
    }
  }, 100);
  await new Promise((r) => setTimeout(r, Number(ms)));
  clearInterval(flood);
  // Timers stretch on a busy machine: the rate actually sent, not the one asked for.
  const rate = sent / ((performance.now() - start) / 1000);
  await new Promise((r) => setTimeout(r, 1_000)); // late CONNACKs
  process.send!({ sent, refused, rate });
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'lvsfleet-flood-'));
const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--mqtt-port', '0', '--data-dir', join(dir, 'data')], {
  env: { ...process.env, DATABASE_URL: '' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let out = '';
let err = '';
child.stdout.on('data', (d: Buffer) => (out += d.toString()));
child.stderr.on('data', (d: Buffer) => (err += d.toString()));

async function until<T>(what: string, f: () => T | undefined): Promise<T> {
  for (let i = 0; i < 1200; i++) {
    const v = f();
    if (v !== undefined) return v;
    if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** An MQTT 3.1.1 CONNECT (§3.1) with clean session, username and password; clientId = username as the broker asks. */
function connectPacket(username: string, password: string): Buffer {
  const str = (t: string) => {
    const b = Buffer.from(t);
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 255]), b]);
  };
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 60]), str(username), str(username), str(password)]);
  const len: number[] = [];
  let n = body.length;
  do {
    len.push((n & 127) | (n > 127 ? 128 : 0));
    n >>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x10, ...len]), body]);
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/** /healthz, one request at a time, every 20 ms for `ms`. */
async function probe(url: string, ms: number): Promise<number[]> {
  const took: number[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const t0 = performance.now();
    await (await fetch(`${url}/healthz`)).arrayBuffer();
    took.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  return took;
}

try {
  const url = await until('the banner', () => /serving on (http:\/\/\S+)/.exec(out)?.[1]);
  const mqttUrl = await until('the broker URL', () => /mqtt:\s+(mqtt:\/\/\S+)/.exec(out)?.[1]);
  const admin = readFileSync(join(dir, 'data', 'admin-token'), 'utf8').trim();
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${admin}`, ...(init.headers ?? {}) } }).then(async (r) => {
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
      return r.json() as Promise<Record<string, unknown>>;
    });
  await api('/v1/sites/bj-dc1/spec', { method: 'PUT', body: readFileSync(SEEDS, 'utf8'), headers: { 'content-type': 'application/yaml' } });
  const { token } = await api('/v1/sites/bj-dc1/nodes/dr1/enrollment', { method: 'POST' });
  const enrolled = (await fetch(`${url}/v1/agent/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  }).then((r) => r.json())) as { mqtt: { username: string } };
  const username = enrolled.mqtt.username;

  const quiet = await probe(url, PHASE_MS);
  const checksBefore = (err.match(/bad credentials/g) ?? []).length;
  const [host, port] = mqttUrl.replace('mqtt://', '').split(':');
  const flooder = fork(process.argv[1], ['--flood', host, port, username, String(PHASE_MS)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const flooded = new Promise<{ sent: number; refused: number; rate: number }>((r) => flooder.once('message', (m) => r(m as never)));
  const loaded = await probe(url, PHASE_MS);
  const { sent, refused, rate } = await flooded;
  const checks = (err.match(/bad credentials/g) ?? []).length - checksBefore;

  const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms (${xs.length} requests)`;
  console.log(`/healthz, no flood:                      ${fmt(quiet)}`);
  console.log(`/healthz, ${CONNECTS_PER_S} bad CONNECTs/s:           ${fmt(loaded)}`);
  console.log(`CONNECTs sent ${sent} (${rate.toFixed(0)}/s; asked ${CONNECTS_PER_S}/s), refused ${refused}, checked with scrypt ${checks}`);
  console.log(
    `target: /healthz p99 under 50 ms during the flood; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
