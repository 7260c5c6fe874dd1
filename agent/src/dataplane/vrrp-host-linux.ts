import { execFile, spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { ResolvedVip } from '#shared/config/node-config.ts';
import { startGarpHelper, type GarpHelper } from './vrrp-garp-helper.ts';
import { IpBatch } from './vrrp-ip-batch.ts';
import { openRawVrrpSocket } from './vrrp-linux-socket.ts';
import type { VrrpHost } from './vrrp-host.ts';
import { VrrpHostError } from './vrrp-host.ts';

export interface LinuxVrrpHostOptions {
  /** Paths of the tools (defaults: found on PATH). */
  ip?: string;
  arping?: string;
  ipvsadm?: string;
  /** Use the long-lived AF_PACKET helper for gratuitous ARP (default true; falls back to arping). */
  garpHelper?: boolean;
  /**
   * keepalived `vrrp_priority`: nice value for the process running VRRP (-20…19), applied when the
   * first VRRP socket opens. Default: unchanged (keepalived's default too). A negative value keeps
   * adverts on time when the host's CPUs are saturated.
   */
  nice?: number;
  /** Where notify hook failures go. */
  log?: (line: string) => void;
}

function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (e, out, err) => {
      if (e && typeof e.code !== 'number') return reject(e);
      resolve({ code: e ? (e.code as unknown as number) : 0, out, err });
    });
  });
}

/** What `ip addr add` of a present / `del` of an absent address says (old and new iproute2). */
const IDEMPOTENT = /File exists|already assigned|Cannot assign requested address|Address not found/;

const vipArgs = (v: ResolvedVip) => [`${v.address}/${v.prefix}`, 'dev', v.interface];

/** Parses `ip -j link show`: up = administratively UP and LOWER_UP (carrier). */
export function parseIpLinks(json: string): Map<string, boolean> {
  const rows = JSON.parse(json) as { ifname: string; flags?: string[] }[];
  return new Map(rows.map((r) => [r.ifname, !!r.flags?.includes('UP') && !!r.flags?.includes('LOWER_UP')]));
}

/**
 * The Linux VrrpHost: raw sockets, `ip addr` for VIPs (with keepalived's label when given),
 * `arping` for gratuitous ARP (Debian's arping: `-U -i IF -S VIP`; iputils' `-U -I IF -s VIP`
 * is detected and used instead), `ip -j link`/`ip monitor link` for tracking, `sh -c` for scripts
 * and hooks, `ipvsadm --start-daemon` for connection sync.
 */
export function createLinuxVrrpHost(opts: LinuxVrrpHostOptions = {}): VrrpHost {
  const ip = opts.ip ?? 'ip';
  const arping = opts.arping ?? 'arping';
  const ipvsadm = opts.ipvsadm ?? 'ipvsadm';
  const log = opts.log ?? (() => {});
  let arpingFlavour: Promise<'habets' | 'iputils'> | null = null;
  const monitors = new Set<() => void>();
  let helper: GarpHelper | null | undefined;
  const batch = new IpBatch(ip, log);
  let niced = false;

  async function ipAddr(op: 'add' | 'del', vips: ResolvedVip[]): Promise<void> {
    const errors: string[] = [];
    await Promise.all(
      vips.map(async (v) => {
        const args = ['addr', op, ...vipArgs(v), ...(op === 'add' && v.label ? ['label', v.label] : [])];
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
      // Start the GARP helper with the engine, never on the failover path.
      if (helper === undefined) helper = opts.garpHelper === false ? null : startGarpHelper();
      batch.warm();
      if (opts.nice !== undefined && !niced) {
        niced = true;
        try {
          setPriority(opts.nice);
        } catch (e) {
          log(`vrrp: cannot set nice ${opts.nice}: ${(e as Error).message}`);
        }
      }
      return openRawVrrpSocket(o, onPacket, onError);
    },
    addVips: (vips) => ipAddr('add', vips),
    removeVips: (vips) => ipAddr('del', vips),
    async garp(iface, addresses, count) {
      if (helper) {
        const h = helper;
        const sent = await Promise.all(addresses.map((a) => h.send(iface, a, count, 0))).then(
          () => true,
          (e: Error) => (log(`vrrp: ${e.message}; using arping`), (helper = null), false),
        );
        if (sent) return;
      }
      arpingFlavour ??= run(arping, ['--help']).then(
        (r) => (/-S\b/.test(r.out + r.err) ? 'habets' : 'iputils'),
        () => 'habets',
      );
      const flavour = await arpingFlavour;
      await Promise.all(
        addresses.map(async (a) => {
          // No wait between requests: keepalived sends a burst (garp_interval 0).
          const args =
            flavour === 'habets'
              ? ['-q', '-U', '-c', String(count), '-W', '0.01', '-i', iface, '-S', a, a]
              : ['-q', '-U', '-c', String(count), '-I', iface, '-s', a, a];
          const r = await run(arping, args, 5_000 + count * 100).catch((e: Error) => ({ code: -1, out: '', err: e.message }));
          // arping exits 1 when nobody answers an unsolicited ARP; only a missing tool or bad flags matter.
          if (r.code !== 0 && r.code !== 1) throw new VrrpHostError('garp', `arping ${args.join(' ')}: ${r.err.trim()}`);
        }),
      );
    },
    async links() {
      const r = await run(ip, ['-j', 'link', 'show']);
      if (r.code !== 0) throw new VrrpHostError('links', `ip -j link: ${r.err.trim()}`);
      return parseIpLinks(r.out);
    },
    watchLinks(onChange) {
      const child = spawn(ip, ['-o', 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let pending: NodeJS.Timeout | null = null;
      child.stdout.on('data', () => {
        // Debounce: one `ip monitor` line per attribute change; re-read the whole table once.
        pending ??= setTimeout(() => {
          pending = null;
          run(ip, ['-j', 'link', 'show']).then(
            (r) => r.code === 0 && onChange(parseIpLinks(r.out)),
            () => {},
          );
        }, 10);
      });
      child.on('error', (e) => log(`vrrp: ip monitor link failed: ${e.message}`));
      const stop = () => {
        if (pending) clearTimeout(pending);
        child.kill();
        monitors.delete(stop);
      };
      monitors.add(stop);
      return stop;
    },
    runScript(command, timeoutMs, user) {
      return new Promise((resolve) => {
        // keepalived vrrp_script `user`: util-linux runuser drops to that user for the script only.
        const argv = user ? ['runuser', '-u', user, '--', 'sh', '-c', command] : ['sh', '-c', command];
        const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore', detached: true });
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
      const child = spawn('sh', ['-c', `${command} "$@"`, 'sh', ...args], { stdio: 'ignore' });
      child.on('error', (e) => log(`vrrp: notify ${command} failed: ${e.message}`));
      child.on('exit', (code) => code !== 0 && log(`vrrp: notify ${command} ${args.join(' ')} exited ${code}`));
    },
    async syncDaemon(role, iface, syncId) {
      const exec = async (args: string[]) => {
        const r = await run(ipvsadm, args).catch((e: Error) => ({ code: -1, out: '', err: e.message }));
        if (r.code !== 0) throw new VrrpHostError('ipvs_sync', `ipvsadm ${args.join(' ')}: ${r.err.trim() || `exit ${r.code}`}`);
      };
      const other = role === 'master' ? 'backup' : 'master';
      // Stopping a daemon that is not running fails harmlessly; starting is what must succeed.
      if (role === 'stop') {
        await Promise.allSettled([exec(['--stop-daemon', 'master']), exec(['--stop-daemon', 'backup'])]);
        return;
      }
      await exec(['--stop-daemon', other]).catch(() => {});
      await exec(['--stop-daemon', role]).catch(() => {});
      await exec(['--start-daemon', role, '--mcast-interface', iface, '--syncid', String(syncId)]);
    },
    async close() {
      helper?.close();
      helper = undefined;
      batch.close();
      for (const stop of [...monitors]) stop();
    },
  };
}
