/**
 * Planned operations (operational overrides) on real IPVS with real traffic: drain and undrain of a
 * real server, maintenance of the MASTER director, and a failover to the BACKUP. The standalone
 * agents read one `--overrides` file (shared/overrides/override.ts), re-read on SIGHUP, and end an
 * override at its `until` on their own clocks. Every scenario runs the client at full speed through
 * the VIP (fresh connection per request, several in flight) and keeps one long-lived connection.
 */
import { procAddress } from '../../../agent/src/dataplane/proc-ip-vs.ts';
import { Override } from '../../../shared/overrides/override.ts';
import { formatHostPort } from '../../../shared/util/ip.ts';
import type { Client, LoopResult } from './client-rpc.ts';
import { check, type Harness } from './harness.ts';
import { connections, realServers } from './ipvs.ts';
import type { Lab } from './lab.ts';
import { procNet } from './proc-net.ts';
import { nsh, sleep, waitFor } from './sh.ts';
import { NET } from './topology.ts';

const VIP = '10.99.0.50';
const CLIENT = NET.client.dr;
/**
 * Three requests in flight, each worker paced to 30 ms: at most ~100 req/s. An unpaced client
 * starves the emulated CPUs: measured under host load 16, four unpaced workers made the agents'
 * timers run 13–18 s late and their checks time out. Two workers made 39–49 req/s once the
 * client, the real servers and the agents' periodic checks had become cheaper (bare-socket HTTP,
 * /proc instead of tool processes), with the guest 1.6–1.8 of 2 CPUs busy: the requests' own
 * latency, not the CPUs, held the rate; three made 52–69 req/s in maintenance and failover-to.
 */
const WORKERS = 3;
const PACE_MS = 30;
/** A request counts as failed when refused, reset or unanswered this long (a SYN retransmit is 1 s). */
const REQUEST_TIMEOUT_MS = 3000;
/** The issue's floor for the client's rate. */
const MIN_RATE = 50;
/** How long an override may take to reach the kernel under TCG (SIGHUP, re-layer, `ipvsadm -R`; 65 s measured under host load 16). */
const APPLY_MS = 150_000;
/**
 * How long a maintenance or failover override lasts. Long enough for both agents to re-layer under
 * TCG, for the hand-over (3–8 s) and for the watchers after it (to 20 s after the SIGHUP); short for
 * CI, where each of the two scenarios waits it out (60 s took ~70 s a scenario).
 */
const OVERRIDE_MS = 40_000;

let seq = 0;
/** One override as an operator's tooling would write it, checked against the one schema the agents read. */
function override(kind: Override['kind'], fields: Record<string, unknown>, untilMs: number): Override {
  const meta = {
    id: `lab-${kind}-${++seq}`,
    until: new Date(untilMs).toISOString(),
    author: 'kernel-lab',
    reason: 'kernel lab proof',
    createdAt: new Date().toISOString(),
  };
  return Override.parse({ kind, ...meta, ...fields });
}

/** Both real servers at weight `w` of `web` in `ns`'s IPVS (the steady table before each operation). */
async function weights(ns: string): Promise<Record<string, number | undefined>> {
  const rs = await realServers(ns, VIP, 80);
  return { rs1: rs.get(`${NET.rs1}:80`), rs2: rs.get(`${NET.rs2}:80`) };
}

/** Wait for the pair's steady state: d1 the only VIP holder, both real servers at weight 1 on both directors. */
export async function steady(lab: Lab): Promise<void> {
  const ok = await waitFor(
    async () => {
      for (const d of ['d1', 'd2']) {
        const w = await weights(d);
        if (w.rs1 !== 1 || w.rs2 !== 1) return false;
      }
      return (await lab.holds('d1', VIP)) && !(await lab.holds('d2', VIP));
    },
    APPLY_MS,
    300,
  );
  check(ok, `the pair is not steady (d1 MASTER, rs1 and rs2 at weight 1): d1 ${JSON.stringify(await weights('d1'))} d2 ${JSON.stringify(await weights('d2'))}`);
}

/** Open long-lived connections through VIP:9000 until one lands on `want` (rr alternates); others are closed. */
export async function holdOn(client: Client, name: string, want: string | null): Promise<{ port: number; server: string }> {
  for (let i = 0; i < 6; i++) {
    const { localPort } = await client.hold(name, VIP, 9000, CLIENT);
    const r = await client.holdPing(name, 'hello');
    check(r.ok, `echo through ${VIP}:9000 failed: ${r.error}`);
    const server = r.reply!.split(' ')[0];
    if (want === null || server === want) return { port: localPort, server };
    await client.holdClose(name);
  }
  throw new Error(`no long-lived connection reached ${want} in 6 tries`);
}

/** Requests served through the VIP by a real server, from its own counter (health checks excluded). */
async function servedViaVip(client: Client, rs: 'rs1' | 'rs2'): Promise<number> {
  const g = await client.get(`http://${NET[rs]}/count`, CLIENT, 5000);
  check(g.ok, `${rs}'s counter did not answer: ${JSON.stringify(g)}`);
  // The server listens dual-stack: an IPv4 local address reads `::ffff:a.b.c.d`.
  const counts = JSON.parse(g.body) as Record<string, number>;
  return (counts[`${VIP}:80`] ?? 0) + (counts[`::ffff:${VIP}:80`] ?? 0);
}

/** Client source ports IPVS on `ns` sent to `dest` (`ipvsadm -Lnc`). */
async function portsTo(ns: string, dest: string): Promise<Set<string>> {
  return new Set((await connections(ns)).filter((c) => c.dest === dest && c.source.startsWith(`${CLIENT}:`)).map((c) => c.source));
}

/** Resets the namespace's own TCP stack sent so far (`Tcp: OutRsts` of /proc/net/snmp). */
async function outRsts(ns: string): Promise<number> {
  const tcp = (await procNet(ns, 'snmp')).split('\n').filter((l) => l.startsWith('Tcp:'));
  const [names, values] = tcp.map((l) => l.trim().split(/\s+/));
  return Number(values?.[names?.indexOf('OutRsts') ?? -1] ?? NaN);
}

/**
 * What the directors' own TCP stacks reset while a VIP moves: a client packet that reaches a
 * MASTER whose IPVS does not know its connection (not synced yet) is answered by the local stack
 * with a reset. Printed as evidence beside the failed requests (checks from the directors count
 * too, so it is not asserted).
 */
async function directorResets(): Promise<() => Promise<string>> {
  const before = await Promise.all(['d1', 'd2'].map(outRsts));
  return async () => {
    const after = await Promise.all(['d1', 'd2'].map(outRsts));
    return `d1 ${after[0] - before[0]}, d2 ${after[1] - before[1]}`;
  };
}

/** Start a full-speed loop through a VIP (by default web, from the DR client address). */
export function startTraffic(client: Client, name: string, url = `http://${VIP}/`, from: string = CLIENT, workers = WORKERS): Promise<void> {
  return client.loopStart(name, url, PACE_MS, from, REQUEST_TIMEOUT_MS, workers);
}

/** Print the loop's figures; the issue asks for 0 failed requests at ≥ 50 req/s (the rate is printed, see checkTraffic). */
export function reportTraffic(h: Harness, loop: LoopResult, what = ''): void {
  const of = what ? ` (${what})` : '';
  h.figure(`requests sent${of}`, loop.ok + loop.fail);
  h.figure(`requests failed${of}`, loop.fail);
  h.figure(`request rate${of}`, loop.ratePerS.toFixed(1), 'req/s');
  h.figure(`longest gap between answers${of}`, loop.longestGapMs, 'ms');
  const failures = loop.errors.length ? `; failures ${JSON.stringify(loop.errors)}` : '';
  h.say(`traffic${of}: ${loop.ok} answered, ${loop.fail} failed in ${loop.seconds.toFixed(1)} s by ${JSON.stringify(loop.servers)}${failures}`);
}

/**
 * The client's entries in each director's IPVS table, sampled every `everyMs` from now until
 * `endAt` (a VIP move's window), keeping only changes: a failed request's entries as they were
 * when it failed. Read after the loop, a SYN_RECV entry has expired (60 s) and an established one
 * may have been replaced. Reads are plain /proc files (proc-net.ts), no process, but the kernel
 * formats every entry of the table at each read: the watcher reads at most a quarter of the time.
 */
interface ConnWatch {
  /** When the move began (the override written): the history's times are after it. */
  readonly t0: number;
  readonly done: Promise<void>;
  /** The entries' changes for a client port: `+ms d1 SYN_RECV→10.99.0.21:80`, `+ms d1 gone`. */
  history(port: string): string[];
  /** How much was watched: samples taken, client ports seen on each director. */
  summary(): string;
}

function watchConnections(t0: number, endAt: number, everyMs = 250): ConnWatch {
  // The table's own text (`/proc/net/ip_vs_conn`: hex fields, uppercase), split but not decoded:
  // after a few minutes of traffic it holds thousands of TIME_WAIT entries, and decoding them all
  // at every sample took the driver ~1.8 s a sample under TCG.
  const clientHex = CLIENT.split('.')
    .map((n) => Number(n).toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
  const last = new Map<string, string>(); // `d1 PORT` → `STATE→DESTHEX:PORTHEX`
  const changes = new Map<string, string[]>();
  const note = (port: string, line: string) => changes.set(port, [...(changes.get(port) ?? []), line]);
  const ports = { d1: new Set<string>(), d2: new Set<string>() };
  let samples = 0;
  const done = (async () => {
    while (Date.now() < endAt) {
      samples++;
      const started = Date.now();
      for (const d of ['d1', 'd2'] as const) {
        const text = await procNet(d, 'ip_vs_conn').catch(() => '');
        const at = `+${Date.now() - t0} ms ${d}`;
        const seen = new Set<string>();
        for (const line of text.split('\n')) {
          const t = line.split(/\s+/);
          if (t[1] !== clientHex) continue;
          const port = String(parseInt(t[2], 16));
          const key = `${d} ${port}`;
          const now = `${t[7]}→${t[5]}:${t[6]}`;
          seen.add(key);
          ports[d].add(port);
          if (last.get(key) !== now) note(port, `${at} ${now}`);
          last.set(key, now);
        }
        for (const key of [...last.keys()]) {
          if (!key.startsWith(`${d} `) || seen.has(key)) continue;
          last.delete(key);
          note(key.slice(d.length + 1), `${at} gone`);
        }
      }
      // At most a quarter of the time reading: a sample of a full table takes the guest ~1 s of
      // CPU under TCG, which the traffic and the agents at the move need more.
      await sleep(Math.max(everyMs, 3 * (Date.now() - started)));
    }
  })();
  // Destinations decoded only for what is printed.
  const decode = (l: string) => l.replace(/→([0-9A-F]{8}):([0-9A-F]{4})$/, (_m, a: string, p: string) => `→${formatHostPort(procAddress(a), parseInt(p, 16))}`);
  return {
    t0,
    done,
    history: (port) => (changes.get(port) ?? []).map(decode),
    summary: () => `${samples} samples of both tables, client ports seen: d1 ${ports.d1.size}, d2 ${ports.d2.size}`,
  };
}

/** Where each failed request's client port is in both directors' tables now and, when watched, as it was during the move. */
async function explainFailures(h: Harness, loop: LoopResult, watch?: ConnWatch): Promise<void> {
  if (watch) h.say(`the move's window watched: ${watch.summary()}`);
  if (!loop.errors.length) return;
  // Each table read once for all the failures: a read formats every entry (thousands by now).
  const tables = { d1: await connections('d1'), d2: await connections('d2') };
  for (const e of loop.errors) {
    const port = /\(port (\d+)\)/.exec(e)?.[1];
    if (!port) continue;
    const where = [];
    for (const d of ['d1', 'd2'] as const) {
      const c = tables[d].filter((x) => x.source === `${CLIENT}:${port}`);
      where.push(`${d} ${c.length ? c.map((x) => `${x.state}→${x.dest}`).join(',') : 'none'}`);
    }
    const at = Date.parse(e.split(' ')[0]);
    const when = watch && Number.isFinite(at) ? ` (failed at +${at - watch.t0} ms)` : '';
    const during = watch ? `; during the move: ${watch.history(port).join(', ') || 'never seen'}` : '';
    h.say(`failed request from port ${port}${when}: now ${where.join('; ')}${during}`);
  }
}

/** The agents' lines about a VRRP hand-over: transitions, the unsynced hold, the linger, the copies. */
function handoverLines(lab: Lab, node: string): string {
  return lab
    .tail(node, 200)
    .split('\n')
    .filter((l) => /VI_1 (MASTER|BACKUP)→|holding unsynced|linger|cop(y|ies)|reload: /.test(l))
    .join(' | ');
}

/**
 * 0 failed requests is asserted. The rate is wall-clock under TCG, so it is printed beside the
 * issue's 50 req/s, not asserted: on a loaded host the guest makes fewer, and that says nothing
 * about the agents.
 */
export function checkTraffic(h: Harness, loop: LoopResult, what = ''): void {
  if (loop.ratePerS < MIN_RATE)
    h.say(`client rate${what ? ` (${what})` : ''} ${loop.ratePerS.toFixed(1)} req/s is below the ${MIN_RATE} req/s asked for (TCG on a loaded host)`);
  check(loop.fail === 0, `${loop.fail} of ${loop.ok + loop.fail} requests failed${what ? ` (${what})` : ''}: ${loop.errors.join('; ')}`);
}

/** The first line of an agent's output stamped at or after `after` that matches `re`: its time and match. */
function logFind(lab: Lab, node: string, re: RegExp, after: number): { t: number; m: RegExpExecArray } | undefined {
  for (const line of lab.tail(node, 400).split('\n')) {
    const stamped = /^(\d{4}-\d\d-\d\dT\S+Z) (.*)$/.exec(line);
    const t = stamped ? Date.parse(stamped[1]) : NaN;
    const m = stamped && t >= after ? re.exec(stamped[2]) : null;
    if (m) return { t, m };
  }
  return undefined;
}
const logTime = (lab: Lab, node: string, re: RegExp, after: number) => logFind(lab, node, re, after)?.t;

/** drain: rs1 gets no new connection once its drain is in IPVS, its established one goes on; undrain brings it back. */
export async function drain(h: Harness, lab: Lab, client: Client): Promise<void> {
  await steady(lab);
  const held = await holdOn(client, 'drain', 'rs1');
  h.say(`long-lived connection from port ${held.port} reached ${held.server}`);
  await startTraffic(client, 'drain');
  let loop: LoopResult | undefined;
  try {
    // Until rs1 has answered through the VIP (the client's first requests can take seconds under TCG).
    const before = await waitFor(
      async () => {
        const m = await client.loopMark('drain');
        return (m.sinceMark.rs1 ?? 0) > 0 ? m : undefined;
      },
      30_000,
      1000,
    );
    check(before, 'rs1 served nothing through the VIP in 30 s before the drain');

    const t0 = lab.setOverrides([override('drain-realserver', { service: null, address: NET.rs1, port: null, node: 'rs1' }, Date.now() + 3_600_000)]);
    const applied = await waitFor(async () => (await weights('d1')).rs1 === 0, APPLY_MS, 300);
    h.figure('drain in d1 IPVS (rs1 weight 0) after', Date.now() - t0, 'ms');
    check(applied, `d1 never set rs1's weight to 0\n${lab.tail('d1')}`);
    // Both directors: should VRRP move the VIP meanwhile, d2 must not schedule to rs1 either.
    const both = await waitFor(async () => (await weights('d2')).rs1 === 0, APPLY_MS, 300);
    h.figure('drain in d2 IPVS too after', Date.now() - t0, 'ms');
    check(both, `d2 never set rs1's weight to 0\n${lab.tail('d2')}`);
    // A request IPVS scheduled to rs1 just before the weight change is answered or has failed
    // (timed out) within the client's request timeout: after that, an answer from rs1 would be a
    // new connection to it.
    await sleep(REQUEST_TIMEOUT_MS);
    const served0 = await servedViaVip(client, 'rs1');
    const ports0 = await portsTo('d1', `${NET.rs1}:80`);
    const m0 = await client.loopMark('drain');
    const tm0 = Date.now();
    await sleep(4000);
    const during = await client.loopMark('drain');
    // Beside the whole loop's rate: the steady part, with no change being applied.
    h.figure('request rate while drained', ((during.ok + during.fail - m0.ok - m0.fail) / ((Date.now() - tm0) / 1000)).toFixed(1), 'req/s');
    const served1 = await servedViaVip(client, 'rs1');
    const newPorts = [...(await portsTo('d1', `${NET.rs1}:80`))].filter((p) => !ports0.has(p));
    h.say(
      `4 s drained: answers ${JSON.stringify(during.sinceMark)}; rs1's own counter ${served0} → ${served1}; new -Lnc entries to rs1:80: ${newPorts.length}`,
    );
    h.figure('requests answered by rs1 while drained', during.sinceMark.rs1 ?? 0);
    check(
      (during.sinceMark.rs1 ?? 0) === 0 && served1 === served0,
      `rs1 got new requests while drained: ${JSON.stringify(during.sinceMark)}, counter ${served0} → ${served1}`,
    );
    check(newPorts.length === 0, `IPVS sent new connections to rs1 while drained: ${newPorts.join(' ')}`);
    check((during.sinceMark.rs2 ?? 0) > 0, `rs2 did not carry the traffic: ${JSON.stringify(during.sinceMark)}`);

    // The established connection to the drained server goes on, then completes.
    const conn = (await connections('d1')).find((c) => c.source === `${CLIENT}:${held.port}`);
    const ping = await client.holdPing('drain', 'while drained');
    h.say(`long-lived connection while drained: ${JSON.stringify(ping)}; d1 -Lnc ${JSON.stringify(conn)}`);
    check(
      conn?.state === 'ESTABLISHED' && conn.dest === `${NET.rs1}:9000`,
      `the long-lived connection is not ESTABLISHED to rs1 in d1's table: ${JSON.stringify(conn)}`,
    );
    check(ping.ok && ping.reply!.startsWith('rs1 '), `the long-lived connection broke by the drain: ${JSON.stringify(ping)}`);
    // It completes: the client ends it after the echo. What d1's table shows then is printed only:
    // in DR the director sees the client's side alone, and under TCG its FIN may be seen late.
    await client.holdClose('drain');
    const closedState = await waitFor(
      async () => {
        const c = (await connections('d1')).find((x) => x.source === `${CLIENT}:${held.port}`);
        return !c ? 'gone' : c.state !== 'ESTABLISHED' ? c.state : undefined;
      },
      10_000,
      300,
    );
    h.say(`long-lived connection in d1's table after the client closed it: ${closedState ?? 'still ESTABLISHED after 10 s'}`);

    const t1 = lab.setOverrides([]);
    const back = await waitFor(async () => (await weights('d1')).rs1 === 1, APPLY_MS, 100);
    h.figure('undrain in d1 IPVS (rs1 weight 1) after', Date.now() - t1, 'ms');
    check(back, `d1 never gave rs1 its weight back\n${lab.tail('d1')}`);
    await client.loopMark('drain');
    await sleep(2000);
    const after = await client.loopMark('drain');
    h.say(`2 s after the undrain: ${JSON.stringify(after.sinceMark)}`);
    check((after.sinceMark.rs1 ?? 0) > 0, `rs1 serves nothing after the undrain: ${JSON.stringify(after.sinceMark)}`);
  } finally {
    loop = await client.loopStop('drain');
    reportTraffic(h, loop);
    await explainFailures(h, loop);
    // A failure midway must not leave rs1 drained for the scenarios after this one.
    lab.setOverrides([]);
  }
  checkTraffic(h, loop);
}

/** maintenance: the MASTER hands over without a failed request; the synced connection survives; it returns at `until`. */
export async function maintenance(h: Harness, lab: Lab, client: Client): Promise<void> {
  await steady(lab);
  const held = await holdOn(client, 'maint', null);
  const synced = await waitFor(async () => (await connections('d2')).find((c) => c.source === `${CLIENT}:${held.port}`), 20_000, 300);
  h.say(`long-lived connection (port ${held.port} → ${held.server}) in d2's table by connection sync: ${JSON.stringify(synced)}`);
  check(synced, 'the long-lived connection never reached d2 by IPVS connection sync');
  // Both sync daemons on both directors, and the BACKUP's hold of unsynced connections, in place before the move.
  for (const d of ['d1', 'd2']) {
    const daemons = (await nsh(d, 'ipvsadm', '-L', '--daemon')).trim().replace(/\n/g, '; ');
    const tables = await nsh(d, 'nft', 'list', 'tables').catch((e: Error) => `nft failed: ${e.message}`);
    h.say(`${d}: sync daemons: ${daemons}; nft tables: ${tables.trim().replace(/\n/g, '; ') || 'none'}`);
  }
  const resets = await directorResets();
  await startTraffic(client, 'maint');
  let loop: LoopResult | undefined;
  let move: ConnWatch | undefined;
  try {
    await sleep(1500);
    const until = Date.now() + OVERRIDE_MS;
    const t0 = lab.setOverrides([override('maintenance-director', { node: 'd1' }, until)]);
    move = watchConnections(t0, t0 + 20_000);
    // d2's copy rule lives only for its 5 s hold: watch for it from now, keep the last counter seen.
    let copies = '';
    const watch = (async () => {
      // Until well past the hold's end (d2 takes over 3–8 s after the override under TCG).
      while (Date.now() < t0 + 15_000) {
        const seen = await nsh('d2', 'sh', '-c', 'nft list table ip lvsfleet_handover_VI_1 2>/dev/null | grep dup || true').catch(() => '');
        if (seen.trim()) copies = seen.trim();
        await sleep(1000);
      }
    })();
    const took = await lab.waitMaster('d2', VIP, ['d1', 'd2'], APPLY_MS);
    h.figure('d2 sole VIP holder after the maintenance override', took ?? -1, 'ms');
    check(took !== undefined, `d2 never took over from d1 in maintenance\nd1: ${lab.tail('d1')}\nd2: ${lab.tail('d2')}`);
    // The make-before-break of the hand-over, while it lasts (seconds): d1 lingering on the VIPs
    // (policy rule, quiet ARP), d2 copying what it holds to d1 (its counter: copies so far).
    const lingering = await nsh('d1', 'sh', '-c', '/sbin/ip rule | grep 7911; nft list tables').catch((e: Error) => `failed: ${e.message}`);
    await watch;
    h.say(`hand-over: d1 lingers: ${lingering.trim().replace(/\n\s*/g, '; ') || 'no'}; d2's copy rule as last seen: ${copies || 'never seen'}`);
    h.say(`hand-over in the agents' logs: d1: ${handoverLines(lab, 'd1')}; d2: ${handoverLines(lab, 'd2')}`);
    const ping = await client.holdPing('maint', 'during maintenance', 5000);
    h.say(`long-lived connection through d2: ${JSON.stringify(ping)}`);
    check(ping.ok && ping.reply!.startsWith(`${held.server} `), `the long-lived connection broke at the hand-over: ${JSON.stringify(ping)}`);
    check(Date.now() < until, 'the hand-over took longer than the override lasts: nothing proven about the expiry');

    // Looked for once a second until 2 s before `until` (a return before it is a failure below).
    const back = await lab.waitMaster('d1', VIP, ['d1', 'd2'], until - Date.now() + APPLY_MS, until - 2000);
    const returnedAt = Date.now();
    h.figure('d1 sole VIP holder again, after until', back === undefined ? -1 : returnedAt - until, 'ms');
    check(back !== undefined, `d1 did not return after the override expired\nd1: ${lab.tail('d1')}`);
    // It stayed out for the whole override: its first MASTER transition after the hand-over follows `until`.
    const toBackup = logTime(lab, 'd1', /vrrp VI_1 MASTER→BACKUP/, t0);
    const toMaster = logTime(lab, 'd1', /vrrp VI_1 BACKUP→MASTER/, t0);
    h.say(
      `d1's log: MASTER→BACKUP at +${toBackup === undefined ? '?' : toBackup - t0} ms, BACKUP→MASTER at +${toMaster === undefined ? '?' : toMaster - t0} ms (until at +${until - t0} ms)`,
    );
    check(
      toBackup !== undefined && toMaster !== undefined && toMaster >= until,
      `d1 was MASTER again before its maintenance ended (until ${new Date(until).toISOString()})`,
    );
    const ping2 = await client.holdPing('maint', 'after maintenance', 5000);
    h.say(`long-lived connection after d1's return: ${JSON.stringify(ping2)}`);
    check(ping2.ok && ping2.reply!.startsWith(`${held.server} `), `the long-lived connection broke at d1's return: ${JSON.stringify(ping2)}`);
    h.figure('long-lived connection', 'survived');
  } finally {
    loop = await client.loopStop('maint');
    reportTraffic(h, loop);
    await move?.done;
    await explainFailures(h, loop, move);
    h.figure('TCP resets sent by the directors themselves', await resets());
    await client.holdClose('maint');
    lab.setOverrides([]);
  }
  checkTraffic(h, loop);
}

/** failover-to: `failover VI_1 --to d2` makes d2 MASTER, and d1 MASTER again once the override expires. */
export async function failoverTo(h: Harness, lab: Lab, client: Client): Promise<void> {
  await steady(lab);
  const held = await holdOn(client, 'fo', null);
  const synced = await waitFor(async () => (await connections('d2')).find((c) => c.source === `${CLIENT}:${held.port}`), 20_000, 300);
  check(synced, 'the long-lived connection never reached d2 by IPVS connection sync');
  const resets = await directorResets();
  await startTraffic(client, 'fo');
  let loop: LoopResult | undefined;
  let move: ConnWatch | undefined;
  try {
    await sleep(1500);
    const until = Date.now() + OVERRIDE_MS;
    const t0 = lab.setOverrides([override('failover', { instance: 'VI_1', node: 'd2' }, until)]);
    move = watchConnections(t0, t0 + 20_000);
    const took = await lab.waitMaster('d2', VIP, ['d1', 'd2'], APPLY_MS);
    check(took !== undefined, `d2 never became MASTER of VI_1\nd1: ${lab.tail('d1')}\nd2: ${lab.tail('d2')}`);
    // From the agents' own stamped lines: d2 read the override (its reload) → d2 MASTER. d2 needs
    // nothing from d1 but one lower advert: d1's own reload may come before or after.
    const reloaded = [logTime(lab, 'd1', /reload: 1 override/, t0), logTime(lab, 'd2', /reload: 1 override/, t0)];
    const transition = logFind(lab, 'd2', /vrrp VI_1 BACKUP→MASTER \(([^)]*)\)/, t0);
    check(
      reloaded.every((t) => t !== undefined) && transition !== undefined,
      `the agents' logs do not show the reloads and d2's transition\nd1: ${lab.tail('d1')}\nd2: ${lab.tail('d2')}`,
    );
    const tookMs = transition.t - reloaded[1]!;
    h.figure('d2 MASTER after its agent read the failover', tookMs, 'ms');
    h.figure('d2 MASTER after both agents read it', transition.t - Math.max(...(reloaded as number[])), 'ms');
    h.figure('d2 sole VIP holder after the SIGHUP', took, 'ms');
    // VRRPv2, advert 1 s, d2 at 254 while failed over: one advert interval + skew (256 − 254)/256 s,
    // plus 1 s for the reload's own apply under TCG (a plain preemption would wait ≥ 2 s more).
    const advertMs = 1000;
    const bound = advertMs + ((256 - 254) * advertMs) / 256;
    const marginMs = 1000;
    // d2 needs one advert of d1 to preempt: when d1's own agent says its timers ran late meanwhile
    // (a starved emulated CPU), that advert was late by as much, which is d1's host, not d2's logic.
    const d1Late = lab
      .tail('d1', 400)
      .split('\n')
      .map((l) => /^(\S+Z) vrrp VI_1: timer ran (\d+) ms late/.exec(l))
      .filter((m): m is RegExpExecArray => !!m && Date.parse(m[1]) >= reloaded[1]! && Date.parse(m[1]) <= transition.t)
      .reduce((a, m) => Math.max(a, Number(m[2])), 0);
    h.figure("d1's advert timer late meanwhile (its own log)", d1Late, 'ms');
    h.say(
      `d2 BACKUP→MASTER (${transition.m[1]}) ${tookMs} ms after its reload; one advert + skew = ${bound.toFixed(0)} ms, + ${marginMs} ms TCG margin + ${d1Late} ms d1 stalled`,
    );
    h.say(`hand-over in the agents' logs: d1: ${handoverLines(lab, 'd1')}; d2: ${handoverLines(lab, 'd2')}`);
    const ping = await client.holdPing('fo', 'failed over', 5000);
    check(ping.ok && ping.reply!.startsWith(`${held.server} `), `the long-lived connection broke at the failover: ${JSON.stringify(ping)}`);

    // Looked for once a second until 2 s before `until`; a return before `until` fails below.
    const back = await lab.waitMaster('d1', VIP, ['d1', 'd2'], until - Date.now() + APPLY_MS, until - 2000);
    const returnedAt = Date.now();
    h.figure('d1 sole VIP holder again, after until', back === undefined ? -1 : returnedAt - until, 'ms');
    check(back !== undefined, `d1 did not take VI_1 back after the failover expired\nd1: ${lab.tail('d1')}`);
    check(returnedAt >= until, `d1 took VI_1 back ${until - returnedAt} ms before the failover's until`);
    const ping2 = await client.holdPing('fo', 'failed back', 5000);
    check(ping2.ok && ping2.reply!.startsWith(`${held.server} `), `the long-lived connection broke at the return: ${JSON.stringify(ping2)}`);
    h.figure('long-lived connection', 'survived');
    // Asserted after the figures are out: what the issue demands of the takeover.
    check(
      tookMs <= bound + marginMs + d1Late,
      `d2 took ${tookMs} ms after it read the failover; the issue asks for one advert interval + skew (${bound.toFixed(0)} ms; margin ${marginMs} ms, d1 stalled ${d1Late} ms)`,
    );
  } finally {
    loop = await client.loopStop('fo');
    reportTraffic(h, loop);
    await move?.done;
    await explainFailures(h, loop, move);
    h.figure('TCP resets sent by the directors themselves', await resets());
    await client.holdClose('fo');
    lab.setOverrides([]);
  }
  checkTraffic(h, loop);
}
