import { performance } from 'node:perf_hooks';
import { TIMING_ENV } from '../src/debug/failover-timing.ts';
import { skewMs } from '../src/vrrp/timers.ts';
import type { PairSpec } from './keepalived.ts';
import { NetnsLab, type NetnsLabOptions } from './netns.ts';
import { holdsVip, startPair, waitFor, type Impl } from './pair.ts';
import { startPair6 } from './pair6.ts';
import { VipPinger } from './ping.ts';

/** Every master → backup pairing of the two implementations, keepalived with keepalived first: the reference the mixed rows are read against. */
export const ALL_PAIRS: readonly (readonly [Impl, Impl])[] = [
  ['keepalived', 'keepalived'],
  ['ours', 'keepalived'],
  ['keepalived', 'ours'],
  ['ours', 'ours'],
];

export interface FailoverCase {
  d1: Impl; // the master (priority 150)
  d2: Impl; // the backup (priority 100)
  version: 2 | 3;
  advertMs: number;
  kind: FailoverKind;
  /** BFD between the directors (PairSpec.bfd: absent = each side's default). */
  bfd?: PairSpec['bfd'];
  /** Our agents write failover timing marks (LVSFLEET_DEBUG_TIMING=1) into their logs. */
  timing?: boolean;
  /** One VRRPv3 group over IPv6 (`startPair6`, version 3, no BFD) instead of the IPv4 pair. */
  ipv6?: boolean;
  /** With `ipv6`: unicast adverts to the other member's global IPv6 address (keepalived unicast_peer). */
  unicast?: boolean;
  /** The lab's namespace names (`prefix`). */
  lab?: NetnsLabOptions;
}

/**
 * How the master goes away. `graceful`: SIGTERM to the main process (systemd KillMode=mixed,
 * docker stop). `group-sigterm` / `group-sigint`: the signal to the whole process group (a
 * supervisor signalling the group, Ctrl-C in a terminal), which reaches every helper at once.
 * `helper-killed`: our `ip -batch` helper is killed first, then SIGTERM to the main process.
 * All but `crash` are planned stops: the master must release the VIP and send priority 0.
 */
export type FailoverKind = 'crash' | 'graceful' | 'group-sigterm' | 'group-sigint' | 'helper-killed';

export interface FailoverResult {
  /** Longest gap between the client's ping replies around the failover, ms. */
  gapMs: number;
  /** Upper bound the lab asserts (see `failoverBoundMs`). */
  boundMs: number;
  /** Did the stopped master still hold the VIP once its process was gone? (two hosts answering) */
  stoppedHoldsVip: boolean;
  /** How the stopped master's process ended ('crash' kills it). */
  stoppedExit: string;
  logs: { d1: string[]; d2: string[] };
  /** When the master was stopped or crashed (epoch ms, this process's monotonic clock). */
  stoppedAt: number;
  /** BFD state changes the backup logged before the stop (2 = Init and Up once; more = flaps under load). */
  bfdChangesBefore: number;
  /** The client's longest gap: last reply before it and first reply after it (epoch ms, `ping -D`). */
  gap: { lastReplyAt: number; firstReplyAt: number };
}

/**
 * The longest client outage we accept. Crash: the backup waits Master_Down_Interval
 * (3 × advert + skew of priority 100) after the master's last advert, which was sent at most one
 * interval before the crash — that only shortens the gap. Graceful: Skew_Time after the
 * priority-0 advert. The margin covers what sits on top of the protocol timer on a shared 2-core
 * CI runner: timer slack under load, starting `ip addr add` and `arping` (about 10 ms each here),
 * the client's ARP update and the 10 ms ping interval. 150 ms at 100 ms adverts and 400 ms at
 * 1 s adverts: well under one extra advert interval at 1 s, and what an SRE would still call
 * "the timers we configured" (keepalived itself measured 3.58–3.62 s against a 3.61 s interval).
 */
export function failoverBoundMs(c: { version: 2 | 3; advertMs: number; kind: FailoverKind }): number {
  const margin = c.advertMs >= 1000 ? 400 : 150;
  const skew = skewMs(c.version, 100, c.advertMs);
  return Math.round((c.kind === 'crash' ? 3 * c.advertMs + skew : skew) + margin);
}

/** Has the backup process (ours or keepalived) entered BACKUP? Our runner starts slower (tsx). */
export const backupReady = (out: string[]) => out.some((l) => /→BACKUP|Entering BACKUP STATE/.test(l));

/** A BFD state change in a process's output (ours or keepalived's), and whether it went Up. */
const BFD_CHANGE = /bfd \S+: \w+ -> (\w+)|\(\S+\) Entering (\w+) state/i;
const bfdChanges = (out: string[]) => out.flatMap((l) => BFD_CHANGE.exec(l) ?? []).length;
const bfdUpNow = (out: string[]) => {
  for (let i = out.length - 1; i >= 0; i--) {
    const m = BFD_CHANGE.exec(out[i]);
    if (m) return (m[1] ?? m[2]).toLowerCase() === 'up';
  }
  return false;
};

/**
 * Waits until the backup's BFD session is Up and has not changed for `steadyMs`. Under load a
 * 10 ms × 5 session can flap (a stall longer than the detection time); a crash right after a flap
 * finds the session still coming back up, and that run would time VRRP's master-down timer, not BFD.
 */
async function bfdSteady(out: string[], steadyMs: number): Promise<void> {
  let seen = -1;
  let since = 0;
  await waitFor(
    async () => {
      const n = bfdChanges(out);
      if (n !== seen) [seen, since] = [n, Date.now()];
      return bfdUpNow(out) && Date.now() - since >= steadyMs;
    },
    20_000,
    `the backup's BFD session Up and steady for ${steadyMs} ms`,
  );
}

/**
 * Does d2 run a BFD session that can come Up in this case: an explicit one (both sides run it), or
 * our default pair session when d1 is ours too (keepalived runs none by default)?
 */
const backupRunsBfd = (c: FailoverCase) => !c.ipv6 && (c.bfd === undefined ? c.d1 === 'ours' && c.d2 === 'ours' : c.bfd !== false);

const epochNow = () => performance.timeOrigin + performance.now();

/** One failover on a fresh segment: elect d1, ping the VIP from the client, crash or stop d1, time the gap. */
export async function runFailover(c: FailoverCase): Promise<FailoverResult> {
  const lab = new NetnsLab(undefined, c.lab);
  const env = c.timing ? { ...process.env, [TIMING_ENV]: '1' } : undefined;
  const hosts = [
    { name: 'd1', host: 11 },
    { name: 'd2', host: 12 },
    { name: 'client', host: 100 },
  ];
  if (c.ipv6) await lab.setup(hosts, { ipv6: true });
  const pair = c.ipv6
    ? startPair6(lab, { d1: c.d1, d2: c.d2 }, c.advertMs, env, c.unicast)
    : await startPair({ d1: c.d1, d2: c.d2 }, { version: c.version, advertMs: c.advertMs, bfd: c.bfd }, lab, { env });
  try {
    await waitFor(
      async () =>
        backupReady(pair.out.d2) &&
        (!backupRunsBfd(c) || bfdUpNow(pair.out.d2)) &&
        (await holdsVip(lab, 'd1', pair.vip)) &&
        !(await holdsVip(lab, 'd2', pair.vip)),
      20_000,
      `d1 MASTER with the VIP, d2 a running BACKUP${backupRunsBfd(c) ? ' with its BFD session Up' : ''}`,
    );
    // Let the backup hear a few adverts so it is a settled BACKUP, not still initialising.
    await new Promise((r) => setTimeout(r, 3 * c.advertMs + 200));
    const ping = new VipPinger(lab, 'client', pair.vip);
    await ping.waitReplies(30);
    if (backupRunsBfd(c)) await bfdSteady(pair.out.d2, 300);
    // The master must still be the master after any flap the steady wait sat out.
    await waitFor(() => holdsVip(lab, 'd1', pair.vip), 10_000, 'd1 holding the VIP before the stop');
    const bfdFlaps = backupRunsBfd(c) ? bfdChanges(pair.out.d2) : 0;
    const from = ping.replies.length - 1;
    const d1 = pair.procs.d1;
    const exited = new Promise<string>((r) => d1.once('exit', (code, sig) => r(sig ?? `exit ${code}`)));
    let stoppedAt = epochNow();
    if (c.kind === 'crash') stoppedAt = await lab.crash('d1');
    else if (c.kind === 'group-sigterm') lab.signalGroup(d1, 'SIGTERM');
    else if (c.kind === 'group-sigint') lab.signalGroup(d1, 'SIGINT');
    else if (c.kind === 'helper-killed') {
      const helpers = await lab.pidsMatching('d1', /\bip -o -force -batch\b/);
      if (c.d1 === 'ours' && !helpers.length) throw new Error('no ip -batch helper found on d1');
      for (const pid of helpers) process.kill(pid, 'SIGKILL');
      stoppedAt = epochNow();
      d1.kill('SIGTERM');
    } else d1.kill('SIGTERM');
    await waitFor(() => holdsVip(lab, 'd2', pair.vip), 20_000, 'd2 to take the VIP');
    await ping.waitReplies(50);
    ping.stop();
    // A planned stop has finished when the process has exited; only then is the VIP's fate final.
    let stoppedHoldsVip = false;
    let stoppedExit = 'SIGKILL';
    if (c.kind !== 'crash') {
      stoppedExit = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running after 10 s'), 10_000))]);
      stoppedHoldsVip = await holdsVip(lab, 'd1', pair.vip);
    }
    const gap = ping.longestGap(from);
    return {
      gapMs: gap.ms,
      boundMs: failoverBoundMs(c),
      stoppedHoldsVip,
      stoppedExit,
      logs: pair.out,
      stoppedAt,
      bfdChangesBefore: bfdFlaps,
      gap: { lastReplyAt: gap.lastReplyAt, firstReplyAt: gap.firstReplyAt },
    };
  } catch (e) {
    throw new Error(`${(e as Error).message}\nd1:\n${pair.out.d1.slice(-15).join('\n')}\nd2:\n${pair.out.d2.slice(-15).join('\n')}`, { cause: e });
  } finally {
    await lab.destroy();
  }
}
