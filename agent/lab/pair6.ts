import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NodeConfig } from '#shared/config/node-config.ts';
import { compileNode } from '#shared/compiler/compile.ts';
import { parseSite } from '#shared/site/parse.ts';
import { siteSpec, startKeepalived } from './keepalived.ts';
import type { NetnsLab } from './netns.ts';
import type { Impl, Pair } from './pair.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export interface Pair6Spec {
  advertMs: number;
  vrid: number;
  /** The VIP, an address of the segment's /64. */
  vip: string;
}

/** keepalived.conf for one member of an IPv6 VRRPv3 group (keepalived picks eth0's link-local source). */
export function keepalivedConf6(name: string, p: Pair6Spec, priority: number, master: boolean): string {
  return `global_defs {
  router_id ${name}
}
vrrp_instance VI_6 {
  state ${master ? 'MASTER' : 'BACKUP'}
  interface eth0
  virtual_router_id ${p.vrid}
  priority ${priority}
  advert_int ${(p.advertMs / 1000).toFixed(2)}
  version 3
  virtual_ipaddress {
    ${p.vip}/64 dev eth0
  }
}
`;
}

/**
 * Our node config for the same member: the IPv4 pair's site spec compiled (same priorities, timers
 * and initial states, no BFD), with the instance moved onto IPv6: eth0's link-local address as its
 * source (RFC 5798 §5.1.2.1), the peer's link-local address, the IPv6 VIP. Checked against the
 * NodeConfig schema by the runner.
 */
export function nodeConfig6(lab: NetnsLab, node: 'd1' | 'd2', p: Pair6Spec, prio: Record<'d1' | 'd2', number>, masterNode: 'd1' | 'd2'): NodeConfig {
  const parsed = parseSite(siteSpec(lab, { version: 3, advertMs: p.advertMs, vrid: p.vrid, vip: `${lab.subnet}.50`, bfd: false }, prio, masterNode));
  if (!parsed.ok) throw new Error(parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  const cfg = compileNode(parsed.site, node);
  const ll = (n: string) => {
    const a = lab.host(n).linkLocal;
    if (!a) throw new Error(`lab host ${n} has no link-local address (setup without ipv6)`);
    return a;
  };
  const instances = cfg.vrrp.instances.map((i) => ({
    ...i,
    sourceAddress: ll(node),
    vips: [{ address: p.vip, prefix: 64, interface: 'eth0', label: null }],
    peers: i.peers.map((x) => ({ ...x, address: ll(x.node ?? '') })),
  }));
  return { ...cfg, vrrp: { ...cfg.vrrp, instances } };
}

function capture(p: ChildProcess, into: string[]): ChildProcess {
  const push = (d: Buffer) => into.push(...d.toString().split('\n').filter(Boolean));
  p.stdout?.on('data', push);
  p.stderr?.on('data', push);
  return p;
}

/**
 * Two directors in one IPv6 VRRPv3 group on a lab set up with `ipv6: true` (d1 priority 150,
 * state MASTER; d2 100), each ours (`agent/lab/vrrp-runner.ts --config`) or keepalived.
 */
export function startPair6(lab: NetnsLab, impl: Record<'d1' | 'd2', Impl>, advertMs: number, env: NodeJS.ProcessEnv = process.env): Pair {
  const p: Pair6Spec = { advertMs, vrid: 61, vip: `${lab.subnet6}::50` };
  const prio = { d1: 150, d2: 100 };
  const out = { d1: [] as string[], d2: [] as string[] };
  const start = (n: 'd1' | 'd2') => {
    if (impl[n] === 'keepalived') return capture(startKeepalived(lab, n, keepalivedConf6(n, p, prio[n], n === 'd1')), out[n]);
    const file = join(lab.dir, `${n}-node6.json`);
    writeFileSync(file, JSON.stringify(nodeConfig6(lab, n, p, prio, 'd1')));
    const cmd = [process.execPath, '--import', 'tsx', join(ROOT, 'agent/lab/vrrp-runner.ts'), '--config', file];
    return capture(lab.spawn(n, cmd, { ...env, NODE_NO_WARNINGS: '1' }), out[n]);
  };
  const d2 = start('d2');
  const d1 = start('d1');
  return { lab, vip: p.vip, out, procs: { d1, d2 } };
}
