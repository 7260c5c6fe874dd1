import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BFD_PORT, decodeControl, type ControlPacket } from '../src/bfd/codec.ts';
import { startKeepalived } from './keepalived.ts';
import { destroyAllLabs, NetnsLab, netnsUnavailable } from './netns.ts';
import { capture } from './pair.ts';

const skip = netnsUnavailable(['keepalived', 'tcpdump']);
if (skip) console.log(`netns BFD lab skipped: ${skip}`);

const ROOT = resolve(import.meta.dirname, '../..');
const INTERVAL_MS = 10;
const MULTIPLIER = 5;
/**
 * Slack on top of multiplier × interval for a crash to be reported: timer lateness in two
 * processes, the stdout pipe to this test, and a loaded 2-core runner. Generous on purpose:
 * it separates "detected by BFD" (tens of ms) from "detected by anything slower" (seconds).
 */
const MARGIN_MS = 200;
const BOUND_MS = MULTIPLIER * INTERVAL_MS + MARGIN_MS;

/** Output lines with the time (this process's monotonic clock) they arrived. */
interface Lines {
  all: { t: number; line: string }[];
}

function watch(p: ChildProcess): Lines {
  const l: Lines = { all: [] };
  capture(p, [], (line) => l.all.push({ t: performance.now(), line }));
  return l;
}

async function lineMatching(l: Lines, re: RegExp, timeoutMs: number, after = 0): Promise<{ t: number; line: string; m: RegExpMatchArray }> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    for (const x of l.all) {
      const m = x.t >= after ? x.line.match(re) : null;
      if (m) return { ...x, m };
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${re}:\n${l.all.map((x) => x.line).join('\n')}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const bfdConf = (name: string, local: string, peer: string) => `global_defs {
  router_id ${name}
}
bfd_instance B1 {
  neighbor_ip ${peer}
  source_ip ${local}
  min_rx ${INTERVAL_MS}
  min_tx ${INTERVAL_MS}
  multiplier ${MULTIPLIER}
}
`;

function startOurs(lab: NetnsLab, host: string, peer: string): Lines {
  const cmd = [
    process.execPath,
    '--import',
    'tsx',
    join(ROOT, 'agent/lab/bfd-runner.ts'),
    '--local',
    lab.host(host).address,
    '--peer',
    lab.host(peer).address,
    '--min-tx',
    String(INTERVAL_MS),
    '--min-rx',
    String(INTERVAL_MS),
    '--multiplier',
    String(MULTIPLIER),
  ];
  return watch(lab.spawn(host, cmd, { ...process.env, NODE_NO_WARNINGS: '1' }));
}

function startKa(lab: NetnsLab, host: string, peer: string): Lines {
  return watch(startKeepalived(lab, host, bfdConf(host, lab.host(host).address, lab.host(peer).address)));
}

/** Crash: SIGSTOP then SIGKILL everything in the namespace. Returns when the signals went out. */
async function crash(lab: NetnsLab, host: string): Promise<number> {
  const pids = await lab.pidsIn(host);
  const t0 = performance.now();
  for (const sig of ['SIGSTOP', 'SIGKILL'] as const)
    for (const pid of pids)
      try {
        process.kill(pid, sig);
      } catch {}
  return t0;
}

/**
 * Resolves once the last state change in `l` (matched by `change`, group 1 the new state) is Up
 * and nothing changed for `steadyMs`. A 10 ms × 5 session can flap on a loaded runner (a stall
 * longer than 50 ms); a crash right after a flap finds the session on its slow 1 s start-up timers
 * and times those, not the detection this file is about. Returns how many changes were seen.
 */
async function steadyUp(l: Lines, change: RegExp, steadyMs = 300, timeoutMs = 20_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const changes = l.all.flatMap((x) => {
      const m = change.exec(x.line);
      return m ? [{ t: x.t, up: m[1].toLowerCase() === 'up' }] : [];
    });
    const last = changes.at(-1);
    if (last?.up && performance.now() - last.t >= steadyMs) return changes.length;
    if (Date.now() > end) throw new Error(`session not steadily Up within ${timeoutMs} ms:\n${l.all.map((x) => x.line).join('\n')}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const OURS_CHANGE = /B1 \w+ -> (\w+) /;
const KA_CHANGE = /\(B1\) Entering (\w+) state/i;

const OURS_UP = /B1 \w+ -> Up /;
const OURS_EXPIRED = /B1 (Up|Init) -> Down diag=1 .*for (\d+) ms/;
const KA_UP = /\(B1\) Entering Up state/i;
const KA_EXPIRED = /\(B1\) Expired after (\d+) ms/;
const KA_DOWN = /\(B1\) Entering Down state/i;

/** UDP payloads to port 3784 in a pcap file (Ethernet link type), with the sender and IP TTL. */
function bfdPackets(file: string): { source: string; ttl: number; payload: Buffer }[] {
  const b = readFileSync(file);
  const le = b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32LE(0) === 0xa1b23c4d;
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const out: { source: string; ttl: number; payload: Buffer }[] = [];
  for (let off = 24; off + 16 <= b.length;) {
    const len = u32(off + 8);
    const frame = b.subarray(off + 16, off + 16 + len);
    off += 16 + len;
    if (frame.readUInt16BE(12) !== 0x0800) continue;
    const ip = frame.subarray(14);
    const ihl = (ip[0] & 0x0f) * 4;
    if (ip[9] !== 17) continue;
    const udp = ip.subarray(ihl);
    if (udp.readUInt16BE(2) !== BFD_PORT) continue;
    out.push({ source: [...ip.subarray(12, 16)].join('.'), ttl: ip[8], payload: Buffer.from(udp.subarray(8, udp.readUInt16BE(4))) });
  }
  return out;
}

let lab: NetnsLab | null = null;
afterEach(async () => {
  await lab?.destroy();
  lab = null;
});
afterAll(destroyAllLabs);

async function newLab(): Promise<NetnsLab> {
  lab = new NetnsLab();
  await lab.setup([
    { name: 'd1', host: 11 },
    { name: 'd2', host: 12 },
  ]);
  return lab;
}

describe.skipIf(!!skip)(`BFD in network namespaces (${INTERVAL_MS} ms × ${MULTIPLIER})`, () => {
  it('ours ↔ keepalived: Up on both sides, every keepalived packet decodes; keepalived crash → ours Down', async () => {
    const lab = await newLab();
    const pcap = join(lab.dir, 'd1-bfd.pcap');
    const dump = lab.spawn('d1', ['tcpdump', '-i', 'eth0', '-n', '-U', '-w', pcap, 'udp', 'port', String(BFD_PORT)]);
    const dumpOut = watch(dump);
    await lineMatching(dumpOut, /listening on/, 10_000);
    const ours = startOurs(lab, 'd1', 'd2');
    await lineMatching(ours, /bfd runner started/, 30_000);
    const ka = startKa(lab, 'd2', 'd1');
    await lineMatching(ours, OURS_UP, 30_000);
    await lineMatching(ka, KA_UP, 30_000);
    // Let the poll sequences finish and a few hundred packets flow, then stop the capture.
    await new Promise((r) => setTimeout(r, 1500));
    const exited = new Promise((r) => dump.once('exit', r));
    lab.signalGroup(dump, 'SIGINT');
    await exited;
    const pkts = bfdPackets(pcap);
    const theirs = pkts.filter((p) => p.source === lab.host('d2').address);
    const decoded = theirs.map((p) => decodeControl(p.payload));
    expect(theirs.length).toBeGreaterThan(10);
    expect(decoded.filter((d) => !d.ok)).toEqual([]);
    expect(new Set(pkts.map((p) => p.ttl))).toEqual(new Set([255]));
    const ok = decoded.flatMap((d) => (d.ok ? [d.packet] : []));
    const states = new Set(ok.map((p: ControlPacket) => p.state));
    expect(states.has('Up')).toBe(true);
    expect(ok.some((p) => p.final || p.poll)).toBe(true);
    console.log(`captured ${pkts.length} BFD packets on d1, ${theirs.length} from keepalived, all decoded; keepalived states seen: ${[...states].join(', ')}`);

    const changes = await steadyUp(ours, OURS_CHANGE);
    const t0 = await crash(lab, 'd2');
    const down = await lineMatching(ours, OURS_EXPIRED, 10_000, t0);
    const took = down.t - t0;
    console.log(
      `keepalived crashed → ours Down (diag 1) after ${took.toFixed(1)} ms; our session saw ${down.m[2]} ms of silence (bound ${BOUND_MS} ms; ${changes} state changes before)`,
    );
    expect(took).toBeLessThanOrEqual(BOUND_MS);
  });

  it('keepalived ↔ ours: Up on both sides; crash of ours → keepalived Down', async () => {
    const lab = await newLab();
    const ka = startKa(lab, 'd1', 'd2');
    await new Promise((r) => setTimeout(r, 300));
    const ours = startOurs(lab, 'd2', 'd1');
    await lineMatching(ours, OURS_UP, 30_000);
    await lineMatching(ka, KA_UP, 30_000);
    await steadyUp(ka, KA_CHANGE);
    const t0 = await crash(lab, 'd2');
    const expired = await lineMatching(ka, KA_EXPIRED, 10_000, t0);
    const down = await lineMatching(ka, KA_DOWN, 10_000, t0);
    expect(down.line).toMatch(/Control Detection Time Expired/);
    const took = down.t - t0;
    console.log(`ours crashed → keepalived Down after ${took.toFixed(1)} ms; keepalived: "expired after ${expired.m[1]} ms" (bound ${BOUND_MS} ms)`);
    expect(took).toBeLessThanOrEqual(BOUND_MS);
  });

  it('ours ↔ ours: Up on both sides; crash of one → the other Down', async () => {
    const lab = await newLab();
    const a = startOurs(lab, 'd1', 'd2');
    const b = startOurs(lab, 'd2', 'd1');
    await lineMatching(a, OURS_UP, 30_000);
    await lineMatching(b, OURS_UP, 30_000);
    await steadyUp(a, OURS_CHANGE);
    const t0 = await crash(lab, 'd2');
    const down = await lineMatching(a, OURS_EXPIRED, 10_000, t0);
    const took = down.t - t0;
    console.log(`ours crashed → ours Down after ${took.toFixed(1)} ms; session saw ${down.m[2]} ms of silence (bound ${BOUND_MS} ms)`);
    expect(took).toBeLessThanOrEqual(BOUND_MS);
  });
});
