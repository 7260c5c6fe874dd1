/** The lab's hosts and processes: topology, real servers, sorry servers, agents, keepalived. */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { topFunctions, type CpuProfile } from '../../../cloud/bench/cpu-profile.ts';
import { closeAnchors } from './proc-net.ts';
import { addHosts, addressesOf, createBridge, NET } from './topology.ts';
import { daemon, nsh, run, sh, sleep, waitFor, type Daemon } from './sh.ts';

export const AGENT_BUNDLE = '/lvsfleet-agent.mjs';
export const SPEC = '/run/lab/site.yaml';
/**
 * The nodes (agents, keepalived, the real servers' HTTP servers, the directors' sorry servers) run
 * at nice −10 in the guest. Each stands for a machine of its own, but here they share two emulated
 * CPUs with the client and the driver's probes; under a loaded host those starved them (measured:
 * VRRP timers 1–3 s late, a SIGHUP read 13 s after it was sent, every check timing out "no result
 * from the checker"), which says nothing about the agents. The nodes still compete with each other. Set on the process right
 * after the spawn (the guest's busybox has no `nice`): `ip netns exec` keeps it across its exec,
 * and keepalived's children inherit it.
 */
export function asNode(d: Daemon): Daemon {
  if (d.child.pid !== undefined) setPriority(d.child.pid, -10);
  return d;
}
/** Every agent's `--overrides` file (a JSON list, re-read on SIGHUP); empty until a scenario writes one. */
const OVERRIDES = '/run/lab/overrides.json';
/** Where `--agent-prof` agents write their profiles, a directory per node. */
const PROF_DIR = '/run/lab/prof';

export interface LabOptions {
  /** Preload the deliberately broken agent (self-test of the lab). */
  breakAgent: boolean;
  /** Agents (standalone and cloud mode) under `--cpu-prof`; at the end each is stopped gracefully and its top functions printed. */
  agentProf?: boolean;
}

export class Lab {
  readonly agents = new Map<string, Daemon>();
  readonly servers = new Map<string, Daemon>();
  readonly others: Daemon[] = [];
  constructor(readonly opts: LabOptions) {}

  static hasAgent(): boolean {
    return existsSync(AGENT_BUNDLE);
  }

  /** Bridge, namespaces, addresses, routes; real servers and the directors' sorry servers. */
  async build(): Promise<void> {
    const t0 = Date.now();
    mkdirSync('/run/lab', { recursive: true });
    await sh('cp', '/lab/site.yaml', SPEC);
    writeFileSync(OVERRIDES, '[]\n');
    await createBridge();
    await addHosts([
      { ns: 'c', role: 'client', addresses: [`${NET.client.dr}/24`, `${NET.client.nat}/24`] },
      ...(['d1', 'd2', 'k1', 'k2'] as const).map((d) => ({ ns: d, role: 'director' as const, addresses: [`${NET[d]}/24`] })),
      ...(['rs1', 'rs2', 'rs3'] as const).map((r) => ({ ns: r, role: 'realserver' as const, addresses: [`${NET[r]}/24`] })),
    ]);
    const tNet = Date.now();
    for (const r of ['rs1', 'rs2', 'rs3']) await this.startServer(r);
    // The seeds' sorry server: 127.0.0.1:80 on each director, answered locally by busybox httpd.
    for (const d of ['d1', 'd2']) {
      mkdirSync(`/run/lab/sorry-${d}`, { recursive: true });
      writeFileSync(`/run/lab/sorry-${d}/index.html`, `sorry-${d}\n`);
      this.others.push(asNode(daemon(`sorry-${d}`, d, ['httpd', '-f', '-p', '80', '-h', `/run/lab/sorry-${d}`])));
    }
    for (const r of ['rs1', 'rs2', 'rs3']) {
      if (!(await this.serverUp(r))) throw new Error(`real server ${r} did not start: ${this.servers.get(r)?.output()}`);
    }
    process.stdout.write(`kernel-lab: namespaces in ${tNet - t0} ms, real servers answering after ${Date.now() - tNet} ms more\n`);
  }

  /** Start (or restart) the HTTP/echo server of a real server namespace. */
  async startServer(rs: string): Promise<void> {
    // The C server (rs.c; the default, run.sh's LAB_C_TRAFFIC=0 picks the Node one): the same answers at a fraction of the CPU a request.
    const argv = process.env.LAB_C_TRAFFIC === '1' ? ['/lab/lab-rs-server'] : ['node', '/lab/rs-server.mjs'];
    this.servers.set(rs, asNode(daemon(`srv-${rs}`, rs, [...argv, rs, '80', '8080', '8000'])));
  }

  async stopServer(rs: string): Promise<void> {
    await this.servers.get(rs)?.stop(2000);
    this.servers.delete(rs);
  }

  /** Wait until a real server answers HTTP on port 80 inside its namespace. */
  async serverUp(rs: string, timeoutMs = 120_000): Promise<boolean> {
    return Boolean(await waitFor(() => nsh(rs, 'timeout', '3', 'wget', '-q', '-O', '-', 'http://127.0.0.1:80/'), timeoutMs, 300));
  }

  /** Start our agent for `node` in its namespace, standalone, from the one site spec. */
  startAgent(node: string, spec = SPEC): Daemon {
    const stateDir = `/run/lab/state-${node}`;
    mkdirSync(stateDir, { recursive: true });
    const pre = [...(this.opts.breakAgent ? ['--import', '/lab/break-agent.mjs'] : []), ...this.profArgs(node)];
    const d = asNode(
      daemon(`agent-${node}`, node, ['node', ...pre, AGENT_BUNDLE, 'run', '--spec', spec, '--node', node, '--state-dir', stateDir, '--overrides', OVERRIDES]),
    );
    this.agents.set(node, d);
    return d;
  }

  /** Start our agent for `node` in cloud mode, from the config `lvsfleet-agent enroll` wrote (same state dir as standalone: it adopts the kernel's state). */
  startCloudAgent(node: string, config: string): Daemon {
    const stateDir = `/run/lab/state-${node}`;
    mkdirSync(stateDir, { recursive: true });
    const d = asNode(
      daemon(`agent-${node}`, node, ['node', ...this.profArgs(`cloud-${node}`), AGENT_BUNDLE, 'run', '--config', config, '--state-dir', stateDir]),
    );
    this.agents.set(node, d);
    return d;
  }

  /**
   * Replace the overrides file (written whole, then renamed) and SIGHUP every running agent, as an
   * operator of standalone agents would; returns the time of the SIGHUP.
   */
  setOverrides(list: unknown[]): number {
    writeFileSync(`${OVERRIDES}.tmp`, JSON.stringify(list, null, 2));
    renameSync(`${OVERRIDES}.tmp`, OVERRIDES);
    const at = Date.now();
    for (const [, d] of this.agents) d.kill('SIGHUP');
    return at;
  }

  /** Node's arguments for an agent under `--agent-prof`, its profile written to PROF_DIR/`dir`; none otherwise. */
  private profArgs(dir: string): string[] {
    // Sampled every 10 ms: at the default 1 ms the profiler alone starved the emulated CPUs.
    return this.opts.agentProf ? ['--cpu-prof', '--cpu-prof-interval=10000', `--cpu-prof-dir=${PROF_DIR}/${dir}`] : [];
  }

  /** Stop an agent gracefully (SIGTERM). */
  async stopAgent(node: string): Promise<void> {
    // Printed, not failed: under a starved guest a graceful stop can be slow; an agent that never
    // exits after SIGTERM (the stop's linger race) was hidden by this SIGKILL before.
    if (await this.agents.get(node)?.stop(8000)) process.stdout.write(`kernel-lab: agent ${node} did not exit within 8 s of SIGTERM: killed\n`);
    this.agents.delete(node);
  }

  /** Does `ns` hold `vip` on eth0? */
  async holds(ns: string, vip: string): Promise<boolean> {
    return (await addressesOf(ns, 'eth0').catch((): string[] => [])).includes(vip);
  }

  /** Does `ns` have `vip` on interface `dev`? */
  async holdsOn(ns: string, dev: string, vip: string): Promise<boolean> {
    return (await addressesOf(ns, dev).catch((): string[] => [])).includes(vip);
  }

  /** A sysctl's value inside `ns`. */
  async sysctl(ns: string, key: string): Promise<string> {
    return (await nsh(ns, 'sysctl', '-n', key)).trim();
  }

  /**
   * Wait until exactly `ns` (of `among`) holds `vip`; returns the ms it took or undefined. Each look
   * is an `ip` process per director: until `slowUntil` (a return not expected before an override's
   * `until`) it looks once a second, then every 100 ms. Looking every 100 ms for a minute cost the
   * emulated CPUs about a third of one, taken from the client whose requests are being counted.
   */
  async waitMaster(ns: string, vip: string, among: string[], timeoutMs: number, slowUntil = 0): Promise<number | undefined> {
    const t0 = Date.now();
    const sole = async () => {
      for (const o of among) if ((await this.holds(o, vip)) !== (o === ns)) return false;
      return true;
    };
    while (Date.now() < slowUntil && Date.now() - t0 < timeoutMs) {
      if (await sole()) return Date.now() - t0;
      await sleep(Math.min(1000, slowUntil - Date.now()));
    }
    const ok = await waitFor(sole, timeoutMs - (Date.now() - t0), 100);
    return ok ? Date.now() - t0 : undefined;
  }

  /** The agent's recent output, for failure messages. */
  tail(node: string, lines = 15): string {
    const out = this.agents.get(node)?.output() ?? '';
    return out.split('\n').slice(-lines).join('\n');
  }

  /** SIGSTOP then SIGKILL every process of a namespace (a crash, as LABS.md does it). */
  async crashNamespace(ns: string): Promise<void> {
    const pids = (await nsh(ns, 'true').then(() => sh('ip', 'netns', 'pids', ns))).split(/\s+/).filter(Boolean);
    for (const p of pids) await run(['kill', '-STOP', p]);
    for (const p of pids) await run(['kill', '-KILL', p]);
    await sleep(50);
  }

  /** Print each running agent's last lines and each director's IPVS table and eth0 addresses. */
  async diagnose(): Promise<void> {
    for (const [node] of this.agents) process.stdout.write(`--- agent ${node} (last lines)\n${this.tail(node, 25)}\n`);
    for (const d of ['d1', 'd2', 'k1', 'k2']) {
      const ipvs = await run(['ip', 'netns', 'exec', d, 'ipvsadm', '-Ln']);
      const addrs = await addressesOf(d, 'eth0').catch(() => []);
      process.stdout.write(`--- ${d} eth0 ${addrs.join(' ')}\n${ipvs.stdout}${ipvs.stderr}`);
    }
    // The VRRP sockets (protocol 112): a growing rx_queue or drops means adverts reached the host
    // but not the agent.
    for (const d of ['d1', 'd2']) {
      const raw = await run(['ip', 'netns', 'exec', d, 'cat', '/proc/net/raw']);
      process.stdout.write(`--- ${d} /proc/net/raw\n${raw.stdout}`);
    }
  }

  async shutdown(): Promise<void> {
    if (this.opts.agentProf) await this.printAgentProfiles();
    for (const d of [...this.agents.values(), ...this.servers.values(), ...this.others]) d.kill('SIGKILL');
    closeAnchors();
  }

  /** Stops the agents gracefully (a profile is written at exit) and prints each one's busiest functions. */
  private async printAgentProfiles(): Promise<void> {
    // A profile is written as the agent exits: under TCG that can take longer than a stop's usual 8 s.
    const killed = await Promise.all([...this.agents].map(async ([node, d]) => ((await d.stop(60_000)) ? node : null)));
    for (const node of killed.filter(Boolean)) process.stdout.write(`kernel-lab: agent ${node} did not exit within 60 s of SIGTERM: killed, no profile\n`);
    for (const node of existsSync(PROF_DIR) ? readdirSync(PROF_DIR) : []) {
      for (const f of readdirSync(`${PROF_DIR}/${node}`)) {
        const p = JSON.parse(readFileSync(`${PROF_DIR}/${node}/${f}`, 'utf8')) as CpuProfile;
        const top = topFunctions(p, 14).map((t) => `${t.ms.toFixed(0)} ms ${t.name}`);
        process.stdout.write(`kernel-lab: CPU profile of agent ${node} (${f}, ${((p.endTime - p.startTime) / 1e6).toFixed(0)} s): ${top.join('; ')}\n`);
      }
    }
  }
}
