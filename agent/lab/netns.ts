import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** Why the netns lab cannot run here, or null when it can (root, `ip netns`, the tools). */
export function netnsUnavailable(tools: string[] = []): string | null {
  if (process.platform !== 'linux') return 'netns lab needs Linux';
  if (process.getuid?.() !== 0) return 'netns lab needs root';
  const path = (process.env.PATH ?? '').split(':');
  for (const t of ['ip', ...tools])
    if (!path.some((d) => existsSync(join(d, t)))) return `netns lab needs ${t} (apt-get install keepalived iputils-ping arping nftables)`;
  return null;
}

/** eth0's link-local address in a namespace (present as soon as the link is up, DAD being off). */
async function linkLocalOf(ns: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const rows = JSON.parse(await sh('ip', ['-n', ns, '-6', '-j', 'addr', 'show', 'dev', 'eth0'])) as { addr_info?: { local?: string; scope?: string }[] }[];
    const a = rows[0]?.addr_info?.find((x) => x.scope === 'link')?.local;
    if (a) return a;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no link-local address on eth0 in ${ns}`);
}

export function sh(cmd: string, args: string[], timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (e, out, err) =>
      e ? reject(new Error(`${cmd} ${args.join(' ')}: ${err || e.message}`)) : resolve(out),
    );
  });
}

export interface LabHost {
  name: string;
  ns: string;
  address: string;
  /** With `setup(…, { ipv6: true })`: a global IPv6 address (`subnet6::N`) and eth0's link-local one. */
  address6?: string;
  linkLocal?: string;
}

export interface NetnsLabOptions {
  /** Namespace name prefix (default `lvf`, or LAB_NETNS_PREFIX, + 6 random hex digits). */
  prefix?: string;
}

/**
 * A throw-away L2 segment: a bridge in its own namespace and one namespace per host joined to it
 * by a veth (`eth0` inside the host). Addresses are made up (10.99.N.0/24) and exist only inside
 * these namespaces; names carry a per-run prefix; `destroy()` kills what we started and deletes
 * every namespace, and is safe to call twice.
 */
export class NetnsLab {
  /** Labs not yet destroyed, for an afterAll safety net when a test dies mid-way. */
  static readonly live = new Set<NetnsLab>();
  readonly prefix: string;
  readonly dir = mkdtempSync(join(tmpdir(), 'lvsfleet-lab-'));
  readonly hosts = new Map<string, LabHost>();
  private procs = new Set<ChildProcess>();
  private namespaces: string[] = [];
  readonly bridgeNs: string;
  /** The segment's IPv6 /64 (documentation range, per process like `subnet`), without the `::`. */
  readonly subnet6: string;

  constructor(
    readonly subnet = `10.99.${1 + (process.pid % 250)}`,
    o: NetnsLabOptions = {},
  ) {
    // LAB_NETNS_PREFIX: a start of names of its own, for runs sharing a host with other labs.
    this.prefix = o.prefix ?? `${process.env.LAB_NETNS_PREFIX ?? 'lvf'}${randomBytes(3).toString('hex')}`;
    this.bridgeNs = `${this.prefix}-br`;
    this.subnet6 = `2001:db8:99:${(1 + (process.pid % 250)).toString(16)}`;
    NetnsLab.live.add(this);
  }

  /**
   * `ipv6`: each host also gets `subnet6::N/64` and a usable link-local address at once: duplicate
   * address detection is off in its namespace before the veth moves in (otherwise addresses stay
   * tentative for a second or more, and keepalived's and our IPv6 sockets cannot use them).
   */
  async setup(hosts: { name: string; host: number }[], o: { ipv6?: boolean } = {}): Promise<void> {
    await this.addNs(this.bridgeNs);
    const br = ['ip', '-n', this.bridgeNs];
    await sh(br[0], [...br.slice(1), 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0']);
    await sh(br[0], [...br.slice(1), 'link', 'set', 'br0', 'up']);
    for (const [i, h] of hosts.entries()) {
      const ns = `${this.prefix}-${h.name}`;
      await this.addNs(ns);
      if (o.ipv6) await sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
      const port = `p${i}`;
      await sh('ip', ['-n', this.bridgeNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await sh('ip', ['-n', this.bridgeNs, 'link', 'set', port, 'master', 'br0', 'up']);
      const address = `${this.subnet}.${h.host}`;
      await sh('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up', 'multicast', 'on']);
      await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      const host: LabHost = { name: h.name, ns, address };
      if (o.ipv6) {
        host.address6 = `${this.subnet6}::${h.host}`;
        await sh('ip', ['-n', ns, 'addr', 'add', `${host.address6}/64`, 'dev', 'eth0']);
        host.linkLocal = await linkLocalOf(ns);
      }
      this.hosts.set(h.name, host);
    }
  }

  private async addNs(ns: string): Promise<void> {
    await sh('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
  }

  private scripts: string | null = null;

  /**
   * A root-owned 0755 directory outside /tmp (whose sticky, world-writable mode the agents' script
   * policy refuses) for scripts the agents may run (`--allow-scripts`); what those scripts read
   * (flag files) goes there too, as the script user cannot enter the 0700 `dir`.
   */
  scriptDir(): string {
    if (!this.scripts) {
      this.scripts = `/run/${this.prefix}-scripts`;
      mkdirSync(this.scripts, { mode: 0o755 });
      chmodSync(this.scripts, 0o755);
    }
    return this.scripts;
  }

  host(name: string): LabHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no lab host ${name}`);
    return h;
  }

  /**
   * A script in scriptDir() that runs `tool` inside a host's namespace, for code that takes a
   * tool's path (the agent's `ip`, `nft`): the agent's own code then works on that host.
   */
  toolIn(name: string, tool: string): string {
    const f = join(this.scriptDir(), `${tool}-${name}`);
    writeFileSync(f, `#!/bin/sh\nexec ip netns exec ${this.host(name).ns} ${tool} "$@"\n`, { mode: 0o755 });
    return f;
  }

  /** Runs a command inside a host's namespace and returns its stdout. */
  exec(name: string, cmd: string[], timeoutMs?: number): Promise<string> {
    return sh('ip', ['netns', 'exec', this.host(name).ns, ...cmd], timeoutMs);
  }

  /**
   * Starts a long-running process in a host's namespace; it is tracked and killed by destroy().
   * It leads its own process group (`ip netns exec` execs the command), as a daemon started from
   * a shell or a supervisor does, so a test can signal the whole group: `signalGroup`.
   */
  spawn(name: string, cmd: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', this.host(name).ns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'], env, detached: true });
    this.procs.add(p);
    p.on('exit', () => this.procs.delete(p));
    return p;
  }

  /** PIDs of every process we started that lives in the host's namespace (the crash set). */
  async pidsIn(name: string): Promise<number[]> {
    const out = await sh('ip', ['netns', 'pids', this.host(name).ns]).catch(() => '');
    return out.split(/\s+/).filter(Boolean).map(Number);
  }

  /** Sends a signal to the process group `p` leads (what Ctrl-C or `kill -- -PGID` does). */
  signalGroup(p: ChildProcess, signal: NodeJS.Signals): void {
    process.kill(-p.pid!, signal);
  }

  /** PIDs in the host's namespace whose command line matches (e.g. an agent's helper). */
  async pidsMatching(name: string, re: RegExp): Promise<number[]> {
    const pids: number[] = [];
    for (const pid of await this.pidsIn(name)) {
      const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (re.test(cmd.split('\0').join(' '))) pids.push(pid);
    }
    return pids;
  }

  /**
   * Crash a host: SIGSTOP then SIGKILL every process in its namespace, then take its link down.
   * Resolves with the moment the first SIGSTOP went out (epoch ms from the monotonic clock).
   */
  async crash(name: string): Promise<number> {
    const pids = await this.pidsIn(name);
    const at = performance.timeOrigin + performance.now();
    for (const pid of pids)
      try {
        process.kill(pid, 'SIGSTOP');
      } catch {}
    for (const pid of pids)
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    await this.exec(name, ['ip', 'link', 'set', 'eth0', 'down']).catch(() => {});
    return at;
  }

  async destroy(): Promise<void> {
    NetnsLab.live.delete(this);
    for (const p of this.procs)
      try {
        p.kill('SIGKILL');
      } catch {}
    // Anything still in our namespaces (keepalived children, hooks) was started by us.
    for (const ns of this.namespaces) {
      const out = await sh('ip', ['netns', 'pids', ns]).catch(() => '');
      for (const pid of out.split(/\s+/).filter(Boolean).map(Number))
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
    }
    for (const ns of this.namespaces.splice(0).reverse()) await sh('ip', ['netns', 'del', ns]).catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
    if (this.scripts) rmSync(this.scripts, { recursive: true, force: true });
  }
}

/** Destroys every lab still alive in this process (afterAll of each lab test file). */
export async function destroyAllLabs(): Promise<void> {
  await Promise.all([...NetnsLab.live].map((l) => l.destroy()));
}
