import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { ResolvedVip } from '#shared/config/node-config.ts';
import { isIpv6 } from '#shared/util/ip.ts';
import { ScriptLauncher } from '../scripts/launcher.ts';
import { NO_SCRIPTS } from '../scripts/policy.ts';
import { Supervisor, type HelperRestart, type SupervisorClock } from './supervisor.ts';
import { GarpHelper } from './vrrp-garp-helper.ts';
import { IpBatch } from './vrrp-ip-batch.ts';
import { encodeUnsolicitedNa } from '../vrrp/neighbor-advert.ts';
import { openRawVrrpSocket } from './vrrp-linux-socket.ts';
import { openRawVrrpSocket6, type Vrrp6Channel } from './vrrp-linux-socket6.ts';
import type { VrrpHost, VrrpHostEvent, VrrpHostHealth } from './vrrp-host.ts';
import { syncDaemonArgs, VrrpHostError } from './vrrp-host.ts';
import { nftScript, UnsyncedHolds } from './unsynced-hold.ts';
import { LINGER_IDEMPOTENT, LINGER_TABLE, VipLingers } from './vip-linger.ts';
import { hostKernelFiles, sysctlPath, type KernelFiles } from './kernel-files.ts';

export interface LinuxVrrpHostOptions {
  /** Paths of the tools (defaults: found on PATH). */
  ip?: string;
  arping?: string;
  ipvsadm?: string;
  nft?: string;
  /** The kernel's /proc and /sys files (default: this host's, opened directly; tests give files of their own). */
  kernelFiles?: KernelFiles;
  /** Use the long-lived AF_PACKET helper for gratuitous ARP (default true; arping is the per-send fallback). */
  garpHelper?: boolean;
  /** python3 for the GARP helper and the IPv6 VRRP receiver (default /usr/bin/python3 when present; null = none). */
  python?: string | null;
  /**
   * keepalived `vrrp_priority`: nice value for the process running VRRP (-20…19), applied when the
   * first VRRP socket opens. Default: unchanged (keepalived's default too). A negative value keeps
   * adverts on time when the host's CPUs are saturated.
   */
  nice?: number;
  /** Where notify hook failures and helper restarts go. */
  log?: (line: string) => void;
  /** Helper restarts and a missing GARP path, for the engine's node events. */
  onEvent?: (e: VrrpHostEvent) => void;
  /** Clock of the helpers' supervisors (tests). */
  clock?: SupervisorClock;
  /** Runs track scripts and notify hooks under the agent's script policy (default: none allowed). */
  scripts?: ScriptLauncher;
}

export interface LinuxVrrpHost extends VrrpHost {
  health(): VrrpHostHealth;
  /**
   * Finds out whether gratuitous ARP can be sent (the AF_PACKET helper, else arping); runs once,
   * at the first channel open, and says so at start (log, `garp_unavailable` event) when neither can.
   */
  probeGarp(): Promise<boolean>;
}

function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (e, out, err) => {
      if (e && typeof e.code !== 'number') return reject(e);
      resolve({ code: e ? (e.code as unknown as number) : 0, out, err });
    });
  });
}

/**
 * net.ipv4.vs.sync_threshold while connection sync runs: sync a connection at its client's 2nd
 * packet, then every 50 (the kernel's default is the 3rd). The kernel syncs a TCP connection only
 * once it is ESTABLISHED, and when `packets % period == threshold`; in DR it counts the client's
 * packets, so 2 is the ACK that ends the handshake and 3 the first data. A connection whose
 * handshake ended at the old MASTER and whose request reaches the new one was, with 3, never sent
 * at all. Each connection is still synced as often as before, one packet earlier.
 */
const SYNC_THRESHOLD = '2 50';

/**
 * net.ipv4.vs sysctls a director running connection sync sets. expire_nodest_conn=1: a client SYN
 * that reuses the port of an IPVS entry whose real server has weight 0 (drained) is scheduled
 * afresh instead of following the old entry to the drained server. Without it such an entry (a
 * DR entry stays FIN_WAIT for 2 min after the client closed; synced ones arrive from the peer too)
 * sent a new connection to a drained real server (seen in the kernel lab's drain scenario).
 * Established connections to a drained server go on: the kernel checks this only for new ones.
 */
const IPVS_SYSCTLS = { sync_threshold: SYNC_THRESHOLD, expire_nodest_conn: '1' };

/** What `ip addr add` of a present / `del` of an absent address says (old and new iproute2). */
const IDEMPOTENT = /File exists|already assigned|Cannot assign requested address|Address not found/;

/**
 * `ip addr` arguments of a VIP. An IPv6 VIP is added `nodad` as keepalived does: duplicate address
 * detection would keep it tentative (unusable as a source, refused by bind) for a second or more
 * after a failover, and the VRRP election already decided who owns it. It is also added
 * deprecated (`preferred_lft 0`): Linux otherwise picks the newest address of a prefix as the
 * source of the director's own connections (RFC 6724 ties), so its health checks would leave from
 * a DR VIP that the real servers hold on lo and answer locally, and every check would fail on the
 * MASTER only. A deprecated address still receives, is still bound and answered on, and IPVS
 * forwards for it as before; it is just never chosen as a source (RFC 6724 rule 3).
 */
const vipArgs = (v: ResolvedVip, op: 'add' | 'del') => [
  `${v.address}/${v.prefix}`,
  'dev',
  v.interface,
  ...(op === 'add' && isIpv6(v.address) ? ['nodad', 'preferred_lft', '0'] : []),
];

/** Parses `ip -j link show`: up = administratively UP and LOWER_UP (carrier). */
export function parseIpLinks(json: string): Map<string, boolean> {
  const rows = JSON.parse(json) as { ifname: string; flags?: string[] }[];
  return new Map(rows.map((r) => [r.ifname, !!r.flags?.includes('UP') && !!r.flags?.includes('LOWER_UP')]));
}

/**
 * The Linux VrrpHost: raw sockets, `ip addr` for VIPs (with keepalived's label when given),
 * the AF_PACKET helper for gratuitous ARP with `arping` as the per-burst fallback (Debian's arping: `-U -i IF -S VIP`; iputils' `-U -I IF -s VIP`
 * is detected and used instead), `ip -j link`/`ip monitor link` for tracking, the script launcher for
 * scripts and hooks, `ipvsadm --start-daemon` for connection sync, `nft` for its hold.
 */
export function createLinuxVrrpHost(opts: LinuxVrrpHostOptions = {}): LinuxVrrpHost {
  const ip = opts.ip ?? 'ip';
  const arping = opts.arping ?? 'arping';
  const ipvsadm = opts.ipvsadm ?? 'ipvsadm';
  const log = opts.log ?? (() => {});
  const scripts = opts.scripts ?? new ScriptLauncher(NO_SCRIPTS);
  const event = (restart: HelperRestart) => opts.onEvent?.({ type: 'helper_restarted', restart });
  /** arping's option dialect, or null when it cannot run here (not installed). */
  let arpingFlavour: Promise<'habets' | 'iputils' | null> | null = null;
  const probeArping = () =>
    (arpingFlavour ??= run(arping, ['--help']).then(
      (r) => (/-S\b/.test(r.out + r.err) ? 'habets' : 'iputils'),
      () => null,
    ));
  const monitors = new Map<() => void, Supervisor<ChildProcess>>();
  const helper = opts.garpHelper === false ? null : new GarpHelper({ python: opts.python, log, event, clock: opts.clock });
  let garpProbe: Promise<boolean> | null = null;
  let garpAvailable: boolean | null = null;
  const batch = new IpBatch(ip, log, event, opts.clock);
  let sync: Supervisor<object> | null = null;
  const nft = nftScript(opts.nft ?? 'nft');
  const holds = new UnsyncedHolds(nft);
  const lingers = new VipLingers(
    nft,
    async (cmds) => {
      const errors: string[] = [];
      for (const args of cmds) {
        // `-6` commands (see lingerIpCommands) cannot go through `ip -batch`.
        const errs =
          args[0] === '-6'
            ? await run(ip, args).then(
                (r) => (r.code === 0 ? [] : [r.err.trim()]),
                (e: Error) => [e.message],
              )
            : await batch.run(args);
        const real = errs.filter((e) => !LINGER_IDEMPOTENT.test(e));
        if (real.length) errors.push(`ip ${args.join(' ')}: ${real.join('; ')}`);
      }
      return errors;
    },
    {
      rules: (family) => run(ip, [`-${family}`, '-j', 'rule', 'show', 'table', String(LINGER_TABLE)]).then((r) => (r.code === 0 ? r.out : '')),
      arpTables: () => run(opts.nft ?? 'nft', ['list', 'tables', 'arp']).then((r) => (r.code === 0 ? r.out : '')),
    },
  );
  const kernel = opts.kernelFiles ?? hostKernelFiles;
  const ipvsSysctl = (key: string) => sysctlPath(`net.ipv4.vs.${key}`);
  /** The IPVS sysctls' values before connection sync set them (IPVS_SYSCTLS), to put back when it is removed. */
  const sysctlsBefore = new Map<string, string>();
  // Connection sync removed (a revision without it): the sysctls it set go back to what they
  // were before this process set them, so the director behaves as one that never synced.
  const restoreSysctls = async () => {
    for (const [key, value] of sysctlsBefore)
      await kernel.write(ipvsSysctl(key), value).catch((e: Error) => log(`vrrp: connection sync: cannot restore ${key} ${value} (${e.message})`));
    sysctlsBefore.clear();
  };
  let niced = false;
  const python = opts.python === undefined ? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : null) : opts.python;
  /** IPv6 channels, for their receiving helpers' health. */
  const channels6 = new Set<Vrrp6Channel>();

  /** Unsolicited Neighbor Advertisements (RFC 4861 §7.2.6) through the helper; no fallback exists for them. */
  async function naBurst(iface: string, addresses: string[], count: number): Promise<void> {
    if (!helper) throw new VrrpHostError('garp', `no helper to send Neighbor Advertisements for ${addresses.join(', ')} on ${iface}`);
    const h = helper;
    const [mac, forwarding] = await Promise.all([
      kernel.read(`/sys/class/net/${iface}/address`).then(
        (t) => t ?? '',
        () => '',
      ),
      // A dot in a device name (a VLAN, eth0.100) is a slash in a sysctl key.
      Promise.resolve()
        .then(() => kernel.read(sysctlPath(`net.ipv6.conf.${iface.replaceAll('.', '/')}.forwarding`)))
        .then(
          (t) => t ?? '0',
          () => '0',
        ),
    ]);
    if (!mac.trim()) throw new VrrpHostError('garp', `no MAC address for ${iface}`);
    const router = forwarding.trim() === '1';
    await Promise.all(addresses.map((a) => h.sendFrame(iface, a, encodeUnsolicitedNa(a, mac.trim(), { router }), count, 0))).catch((e: Error) => {
      throw new VrrpHostError('garp', `Neighbor Advertisements on ${iface}: ${e.message}`);
    });
  }

  const probeGarp = () =>
    (garpProbe ??= (async () => {
      const [helperWhy, flavour] = await Promise.all([helper ? helper.start() : Promise.resolve('disabled'), probeArping()]);
      garpAvailable = helperWhy === null || flavour !== null;
      if (helperWhy !== null)
        log(`vrrp: GARP helper cannot run (${helperWhy}); ${flavour ? 'gratuitous ARP goes through arping' : 'and arping cannot run either'}`);
      if (!garpAvailable) {
        const detail = `no way to send gratuitous ARP: helper ${helperWhy}, arping (${arping}) not found; after a failover clients keep the old MAC until their ARP entry expires`;
        log(`vrrp: ${detail}`);
        opts.onEvent?.({ type: 'garp_unavailable', detail });
      }
      return garpAvailable;
    })());

  /** The arping processes running, by `iface address`. */
  const arpings = new Map<string, Promise<void>>();

  /**
   * Sends through arping (a process per address; used when the helper cannot). An address whose
   * arping is still running is not given a second one: that process is still announcing (arping
   * sends one request a second), and a master answering every lower-priority advert with a burst
   * otherwise starts processes faster than they end: measured in the kernel lab, a director
   * starting four a second stalled its event loop for 9 s (each start forks the agent).
   */
  async function arpingBurst(iface: string, addresses: string[], count: number): Promise<void> {
    const flavour = await probeArping();
    if (!flavour) throw new VrrpHostError('garp', `arping (${arping}) cannot run`);
    await Promise.all(
      addresses.map((a) => {
        const key = `${iface} ${a}`;
        const running = arpings.get(key);
        if (running) return running;
        const p = arpingOne(flavour, iface, a, count).finally(() => arpings.delete(key));
        arpings.set(key, p);
        return p;
      }),
    );
  }

  async function arpingOne(flavour: 'habets' | 'iputils', iface: string, a: string, count: number): Promise<void> {
    // No wait between requests: keepalived sends a burst (garp_interval 0).
    const args =
      flavour === 'habets'
        ? ['-q', '-U', '-c', String(count), '-W', '0.01', '-i', iface, '-S', a, a]
        : ['-q', '-U', '-c', String(count), '-I', iface, '-s', a, a];
    const r = await run(arping, args, 5_000 + count * 100).catch((e: Error) => ({ code: -1, out: '', err: e.message }));
    // arping exits 1 when nobody answers an unsolicited ARP; only a missing tool or bad flags matter.
    if (r.code !== 0 && r.code !== 1) throw new VrrpHostError('garp', `arping ${args.join(' ')}: ${r.err.trim()}`);
  }

  /** Gratuitous ARP through the helper, arping for this burst when it cannot. */
  async function garp4(iface: string, addresses: string[], count: number): Promise<void> {
    let helperError: string | null = 'disabled';
    if (helper) {
      const h = helper;
      helperError = await Promise.all(addresses.map((a) => h.send(iface, a, count, 0))).then(
        (retried) => (retried.some(Boolean) && log(`vrrp: GARP on ${iface} sent on a fresh socket after a failed send`), null),
        (e: Error) => e.message,
      );
      if (helperError === null) return;
      // This burst only: the helper is supervised and the next burst uses it again.
      log(`vrrp: ${helperError}; this burst goes through arping`);
    }
    await arpingBurst(iface, addresses, count).catch((e: Error) => {
      throw new VrrpHostError('garp', helper ? `${helperError}; ${e.message}` : e.message);
    });
  }

  async function ipAddr(op: 'add' | 'del', vips: ResolvedVip[]): Promise<void> {
    const errors: string[] = [];
    await Promise.all(
      vips.map(async (v) => {
        const args = ['addr', op, ...vipArgs(v, op), ...(op === 'add' && v.label ? ['label', v.label] : [])];
        const errs = await batch.run(args);
        // Idempotent: present on add / absent on del is the state we wanted.
        const real = errs.filter((e) => !IDEMPOTENT.test(e));
        if (real.length) errors.push(`ip ${args.join(' ')}: ${real.join('; ')}`);
      }),
    );
    if (errors.length) throw new VrrpHostError('ip_addr', errors.join('; '));
  }

  return {
    now: () => performance.now(),
    async openChannel(o, onPacket, onError) {
      // Start the GARP helper with the engine, never on the failover path, and say now (not at the
      // next failover) when no gratuitous ARP can be sent.
      void probeGarp();
      batch.warm();
      if (opts.nice !== undefined && !niced) {
        niced = true;
        try {
          setPriority(opts.nice);
        } catch (e) {
          log(`vrrp: cannot set nice ${opts.nice}: ${(e as Error).message}`);
        }
      }
      if (!o.ipv6) return openRawVrrpSocket(o, onPacket, onError);
      const ch = await openRawVrrpSocket6(o, onPacket, onError, { python, log, event, clock: opts.clock });
      channels6.add(ch);
      return {
        sourceAddress: ch.sourceAddress,
        send: (vrrp, destination) => ch.send(vrrp, destination),
        close: () => (channels6.delete(ch), ch.close()),
      };
    },
    addVips: (vips) => ipAddr('add', vips),
    removeVips: (vips) => ipAddr('del', vips),
    async garp(iface, all, count) {
      const v6 = all.filter(isIpv6);
      const addresses = all.filter((a) => !isIpv6(a));
      const na = v6.length ? naBurst(iface, v6, count) : Promise.resolve();
      await Promise.all([na, addresses.length ? garp4(iface, addresses, count) : Promise.resolve()]);
    },
    async links() {
      const r = await run(ip, ['-j', 'link', 'show']);
      if (r.code !== 0) throw new VrrpHostError('links', `ip -j link: ${r.err.trim()}`);
      return parseIpLinks(r.out);
    },
    watchLinks(onChange) {
      let pending: NodeJS.Timeout | null = null;
      // Debounce: one `ip monitor` line per attribute change; re-read the whole table once.
      const reread = () =>
        (pending ??= setTimeout(() => {
          pending = null;
          run(ip, ['-j', 'link', 'show']).then(
            (r) => r.code === 0 && onChange(parseIpLinks(r.out)),
            () => {},
          );
        }, 10));
      const sup = new Supervisor<ChildProcess>({
        name: 'ip-monitor',
        start(exited) {
          // Own process group, like every helper: a signal to the agent's group leaves it be.
          const child = spawn(ip, ['-o', 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
          child.stdout.on('data', reread);
          child.stdout.on('error', () => {});
          child.on('error', (e) => exited(`ip monitor link failed: ${e.message}`));
          child.on('exit', (code, signal) => exited(`ip monitor link exited (${signal ?? code})`));
          return child;
        },
        stop: (c) => c.kill(),
        // A link change while it was down would otherwise go unseen until the next one.
        onRestart: reread,
        log: (l) => log(`vrrp: ${l}`),
        event,
        clock: opts.clock,
      });
      sup.ensure();
      const stop = () => {
        if (pending) clearTimeout(pending);
        sup.stop();
        monitors.delete(stop);
      };
      monitors.set(stop, sup);
      return stop;
    },
    async runScript(command, timeoutMs, user) {
      // keepalived vrrp_script: as `user` when given, else the script user; refused outside the policy.
      const l = await scripts.launch(command, { user: user ?? null, detached: true });
      if (!l.ok) return false;
      const child = l.child;
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          // keepalived: a script that outlives its timeout counts as failed; kill its process group.
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {}
          resolve(false);
        }, timeoutMs);
        child.on('error', () => (clearTimeout(timer), resolve(false)));
        child.on('exit', (code) => (clearTimeout(timer), resolve(code === 0)));
      });
    },
    notify(command, args) {
      // keepalived appends its arguments to the configured command line.
      void scripts.launch(command, { args }).then((l) => {
        if (!l.ok) return;
        l.child.on('error', (e) => log(`vrrp: notify ${command} failed: ${e.message}`));
        l.child.on('exit', (code) => code !== 0 && log(`vrrp: notify ${command} ${args.join(' ')} exited ${code}`));
      });
    },
    async syncDaemons(daemons, config) {
      const exec = async (args: string[]) => {
        const r = await run(ipvsadm, args).catch((e: Error) => ({ code: -1, out: '', err: e.message }));
        if (r.code !== 0) throw new VrrpHostError('ipvs_sync', `ipvsadm ${args.join(' ')}: ${r.err.trim() || `exit ${r.code}`}`);
      };
      sync?.stop();
      sync = null;
      // Stopping a daemon that is not running fails harmlessly; starting is what must succeed.
      const unwanted = (['master', 'backup'] as const).filter((d) => !daemons.includes(d));
      if (!daemons.length) {
        await Promise.allSettled(unwanted.map((d) => exec(['--stop-daemon', d])));
        await restoreSysctls();
        return;
      }
      const startDaemons = async () => {
        for (const d of unwanted) await exec(['--stop-daemon', d]).catch(() => {});
        // A daemon left by an earlier run may carry other settings: start each afresh.
        for (const d of daemons) {
          await exec(['--stop-daemon', d]).catch(() => {});
          await exec(syncDaemonArgs(d, config));
        }
        // ip_vs is loaded now. Not fatal: connection sync works without them (see IPVS_SYSCTLS).
        for (const [key, value] of Object.entries(IPVS_SYSCTLS)) {
          const path = ipvsSysctl(key);
          if (!sysctlsBefore.has(key)) {
            const before = await kernel.read(path).catch(() => null);
            if (before !== null) sysctlsBefore.set(key, before.trim().replace(/\s+/g, ' '));
          }
          await kernel.write(path, value).catch((e: Error) => log(`vrrp: connection sync: cannot set ${key} ${value} (${e.message})`));
        }
      };
      // Supervised like a helper: a start that failed is retried with back-off (logged, reported)
      // until it succeeds or the wanted set changes; the first failure is also the caller's.
      let first: { resolve(): void; reject(e: Error): void } | null = null;
      const firstResult = new Promise<void>((resolve, reject) => (first = { resolve, reject }));
      const s = new Supervisor<object>({
        name: 'ipvs-sync',
        start(exited) {
          startDaemons().then(
            () => (first?.resolve(), (first = null)),
            (e: Error) => (first?.reject(e), (first = null), exited(e.message)),
          );
          return {};
        },
        stop: () => {},
        log: (l) => log(`vrrp: ${l}`),
        event,
        clock: opts.clock,
        baseMs: 1_000,
        maxMs: 60_000,
      });
      sync = s;
      s.ensure();
      return firstResult;
    },
    holdUnsynced: (name, addresses, releaseAfterMs, forward) => holds.set(name, addresses, releaseAfterMs, forward ?? null),
    lingerVips: (name, addresses, releaseAfterMs) => lingers.set(name, addresses, releaseAfterMs),
    health() {
      const helpers = [
        batch.health(),
        ...(helper ? [helper.health()] : []),
        ...[...monitors.values()].map((m) => m.health()),
        ...(sync ? [sync.health()] : []),
        ...[...channels6].map((c) => c.health()),
      ];
      const status = garpAvailable === false || helpers.some((h) => h.state === 'failed') ? 'degraded' : 'ok';
      return { status, garpAvailable, helpers };
    },
    probeGarp,
    async close() {
      // First, while `ip -batch` still runs: a closing agent leaves no linger behind.
      await lingers.close();
      helper?.close();
      garpProbe = null;
      batch.close();
      sync?.stop();
      holds.close();
      for (const stop of [...monitors.keys()]) stop();
    },
  };
}
