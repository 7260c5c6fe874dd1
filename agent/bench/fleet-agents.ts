/**
 * Child process of cloud/bench/publish.bench.ts (forked by path, never imported by the cloud): one
 * agent per node id, each with the agent's own broker link (`startMqttLink`: its client id, its
 * desired topic, its last will), its verified intake (`Intake.receive`: signature, schema, node,
 * replay, then the document and revision written to its own state directory) and its engine
 * (`Engine.apply`: director sysctls, the IPVS planner and reconciler, the real-server role) on the
 * dry-run dataplane; a director's health checker takes each config as on a host, its probes never
 * sent (./silent-checker.ts; the bench's checks warm up over an hour, so none is scheduled). No VRRP
 * or BFD part runs: their adverts would go to the made-up addresses of the bench's site. Reports to
 * the parent (IPC) when every agent has applied the document the broker retained for it (that is also how it knows all are subscribed),
 * then the time each node applied the awaited revision: `done` once every expected node has, and
 * on `collect` every node that applied one (to find documents sent to nodes that should not get
 * one), each with this process's RSS; `done` also with what the round cost this process (its CPU
 * since the round began and the kernel's part: `RoundCost`), and each apply with its own time from
 * payload to applied. On `probe` (sent once every process is done), what creating a file in the
 * agents' state directory costs the kernel then (`fileCreateMicros`).
 * BENCH_AGENTS_DIR=DIR: the agents' state directories go under DIR (default: the system's temporary directory).
 * BENCH_AGENTS_PROF=DIR: a CPU profile of each awaited round alone (from `await` to `done`, not the
 * agents' start), written to DIR/agents-revision-N.cpuprofile.
 */
import { closeSync, mkdirSync, openSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { startMqttLink, type MqttLink } from '../src/cloud/mqtt-link.ts';
import { createDryRunDataplane } from '../src/dataplane/dry-run.ts';
import { Engine } from '../src/engine/engine.ts';
import { Intake } from '../src/intake/intake.ts';
import { statePaths } from '../src/state/paths.ts';
import { silentHealthChecker } from './silent-checker.ts';

interface Start {
  url: string;
  username?: string;
  password?: string;
  nodeIds: string[];
  keys: JWK[];
}
type FromParent =
  { type: 'start'; start: Start } | { type: 'await'; revision: number; expect?: string[] } | { type: 'collect' } | { type: 'probe' } | { type: 'stop' };
/**
 * `took`: from the payload reaching this agent's handler to its apply's end (its own intake and
 * apply, interleaved with the others'); `bytes`: the document's size.
 */
type Applied = { at: number; ok: boolean; revision: number; detail?: string; took?: number; bytes?: number };

const send = (m: unknown) => process.send!(m);
const quiet = () => {};
const links: MqttLink[] = [];
const engines: Engine[] = [];
let root = '';
let awaited = Number.POSITIVE_INFINITY;
let expected = new Set<string>();
/** Expected nodes that have not applied the awaited revision yet. */
let expectedLeft = 0;
let allNodes: string[] = [];
let doneSent = false;
/** This process's CPU time when the awaited round began: the round's CPU, divided by the agents that applied, is one apply's cost without the queue. */
let cpuAtAwait = process.cpuUsage();
/** Per node, the last revision its engine applied (warm-up included). */
const last = new Map<string, Applied>();
/** Per node, when it applied the awaited revision. */
const applied = new Map<string, Applied>();
const rssMiB = () => Math.round(process.memoryUsage().rss / 1048576);
const PROF_DIR = process.env.BENCH_AGENTS_PROF;
const profiler = PROF_DIR ? new Session() : null;
profiler?.connect();
if (PROF_DIR) mkdirSync(PROF_DIR, { recursive: true });

/** Ends the round's profile (when one runs) and writes it. */
async function endProfile(revision: number): Promise<void> {
  if (!profiler) return;
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(join(PROF_DIR!, `agents-revision-${revision}.cpuprofile`), JSON.stringify(profile));
}

function record(nodeId: string, a: Applied): void {
  last.set(nodeId, a);
  if (a.revision < awaited || applied.has(nodeId)) return;
  applied.set(nodeId, a);
  // Counted, not looked up: every expected node at each apply was 1,000 lookups per agent's apply,
  // half a million per round in each process, on the agents' own CPU.
  if (expected.has(nodeId)) expectedLeft--;
  if (!doneSent && expectedLeft === 0) {
    doneSent = true;
    const cpu = process.cpuUsage(cpuAtAwait);
    void endProfile(awaited);
    send({
      type: 'done',
      applied: [...applied].filter(([n]) => expected.has(n)),
      rssMiB: rssMiB(),
      round: { cpuMs: (cpu.user + cpu.system) / 1000, systemMs: cpu.system / 1000 },
    });
  }
}

async function startAgent(s: Start, nodeId: string): Promise<void> {
  const stateDir = join(root, nodeId);
  const engine = new Engine({ nodeId, stateDir, log: quiet, dataplane: createDryRunDataplane(quiet), startHealthChecker: silentHealthChecker });
  engines.push(engine);
  const intake = new Intake({
    nodeId,
    keys: s.keys,
    paths: statePaths(stateDir),
    log: quiet,
    onReject: (r) => record(nodeId, { at: performance.timeOrigin + performance.now(), ok: false, revision: r.revision ?? 0, detail: `${r.why}: ${r.detail}` }),
  });
  links.push(
    startMqttLink({
      url: s.url,
      username: s.username as string,
      password: s.password as string,
      nodeId,
      log: quiet,
      // What cloud-run does with a desired document (agent/src/cli/cloud-run.ts `onDesired`).
      onDesired: async (payload) => {
        if (!payload.trim()) return;
        const t0 = performance.now();
        const claims = await intake.receive(payload.trim());
        if (!claims) return;
        const outcome = await engine.apply(claims.config, claims.revision, claims.overrides ?? []);
        const ok = outcome.ok && claims.nodeId === nodeId;
        const at = performance.now();
        record(nodeId, {
          at: performance.timeOrigin + at,
          ok,
          revision: claims.revision,
          detail: ok ? undefined : outcome.errors.join('; '),
          took: at - t0,
          bytes: payload.length,
        });
      },
    }),
  );
}

/**
 * Where the agents keep their state: BENCH_AGENTS_DIR (a journaled ext4 of the row's own with
 * `bench:publish --agents-fs ext4`), else the system's temporary directory. Every save creates a
 * file (its temporary) and frees the one it replaces, and what creating costs is the file system's,
 * not the agent's: on an ext4 without a journal, as the test machines' root is, 1,000 agents' saves
 * on one disk made it 40-1,100 µs of kernel time (cloud/bench/journaled-fs.ts says why), against
 * 16-60 on a journaled one and 2-20 on a tmpfs. So the bench measures it in the agents' state
 * directory, right after their round, and prints it beside their figures.
 */
const STATE_PARENT = process.env.BENCH_AGENTS_DIR ?? tmpdir();

/**
 * Kernel time of creating a file in `dir` (then removing it), µs each: printed beside the agents'
 * figures. Only on the parent's `probe`, once every process has applied: 200 files, about 100 ms of
 * a busy disk, had run as each process finished its round, while the other still applied (the
 * second director of a one-real-server round, the last agents of an every-node one).
 */
function fileCreateMicros(dir: string, n = 200): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) closeSync(openSync(join(dir, `probe-${i}`), 'w'));
  const created = process.cpuUsage(c0);
  for (let i = 0; i < n; i++) unlinkSync(join(dir, `probe-${i}`));
  return created.system / n;
}

async function start(s: Start): Promise<void> {
  mkdirSync(STATE_PARENT, { recursive: true });
  root = await mkdtemp(join(STATE_PARENT, 'lvsfleet-bench-agents-'));
  allNodes = s.nodeIds;
  const t0 = performance.now();
  for (const nodeId of s.nodeIds) await startAgent(s, nodeId);
  // Every node has a retained document on the broker: once each agent applied it, all are subscribed.
  while (last.size < s.nodeIds.length) {
    if (performance.now() - t0 > 180_000) throw new Error(`only ${last.size} of ${s.nodeIds.length} agents applied their retained document within 180 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const bad = [...last].find(([, a]) => !a.ok);
  if (bad) throw new Error(`agent ${bad[0]} failed its first apply: ${bad[1].detail}`);
  // The slowest first apply from its payload to applied, and the largest document (a few agents given large documents).
  const firstApplyMs = Math.max(0, ...[...last.values()].map((a) => a.took ?? 0));
  const largestBytes = Math.max(0, ...[...last.values()].map((a) => a.bytes ?? 0));
  send({ type: 'ready', agents: links.length, warmMs: Math.round(performance.now() - t0), firstApplyMs, largestBytes, rssMiB: rssMiB() });
}

// The bench that forked this process is gone (its time limit, a crash): so is the reason to run.
process.on('disconnect', () => {
  if (root) rmSync(root, { recursive: true, force: true });
  process.exit(1);
});

process.on('message', (m: FromParent) => {
  if (m.type === 'start') start(m.start).catch((err: Error) => send({ type: 'error', message: err.message }));
  else if (m.type === 'await') {
    awaited = m.revision;
    expected = new Set(m.expect ?? allNodes);
    expectedLeft = expected.size;
    doneSent = false;
    applied.clear();
    cpuAtAwait = process.cpuUsage();
    if (profiler) void profiler.post('Profiler.enable').then(() => profiler.post('Profiler.start'));
  } else if (m.type === 'collect') {
    send({ type: 'collected', applied: [...applied], rssMiB: rssMiB() });
  } else if (m.type === 'probe') {
    // Right after the round, while the disk is still as the round left it.
    send({ type: 'probed', createUs: fileCreateMicros(root) });
  } else if (m.type === 'stop') {
    void (async () => {
      await Promise.all(links.map((l) => l.close().catch(() => {})));
      for (const e of engines) await e.stop().catch(() => {});
      if (root) await rm(root, { recursive: true, force: true });
      process.exit(0);
    })();
  }
});
