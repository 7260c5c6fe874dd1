import { startKeepalived } from './keepalived.ts';
import type { NetnsLab } from './netns.ts';
import { capture, startOurs, type Impl, type Pair } from './pair.ts';

export interface Pair6Spec {
  advertMs: number;
  vrid: number;
  /** The VIP, an address of the segment's /64. */
  vip: string;
  /** keepalived unicast_peer / our `unicast: true`: adverts go to the other member's global IPv6 address. */
  unicast?: boolean;
}

/**
 * keepalived.conf for one member of an IPv6 VRRPv3 group (keepalived sends from eth0's link-local
 * address); with `unicast`, it sends from its own global address to the other member's (unicast_src_ip, unicast_peer).
 */
export function keepalivedConf6(name: string, p: Pair6Spec, priority: number, master: boolean, unicast?: { self: string; peer: string }): string {
  // unicast_src_ip: without it keepalived sends from, and binds its unicast socket to, the link-local address.
  const peers = p.unicast && unicast ? `  unicast_src_ip ${unicast.self}\n  unicast_peer {\n    ${unicast.peer}\n  }\n` : '';
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
${peers}}
`;
}

/**
 * Our site spec for the same group: dual-stack directors (`address6`), one instance whose VIP is
 * IPv6 (so it is family 6, VRRPv3), the same priorities, timers and initial states, no BFD.
 */
export function siteSpec6(lab: NetnsLab, p: Pair6Spec, prio: Record<'d1' | 'd2', number>, masterNode: 'd1' | 'd2'): string {
  const spec = {
    apiVersion: 'lvsfleet/v1',
    kind: 'Site',
    metadata: { name: 'lab6' },
    spec: {
      nodes: (['d1', 'd2'] as const).map((n) => ({
        name: n,
        role: 'director',
        address: lab.host(n).address,
        address6: lab.host(n).address6,
        interface: 'eth0',
      })),
      bfdDefault: false,
      vrrp: [
        {
          name: 'VI_6',
          vrid: p.vrid,
          version: 3,
          advertInterval: `${p.advertMs}ms`,
          preempt: true,
          ...(p.unicast ? { unicast: true } : {}),
          vips: [`${p.vip}/64`],
          members: (['d1', 'd2'] as const).map((n) => ({ node: n, priority: prio[n], initialState: n === masterNode ? 'MASTER' : 'BACKUP' })),
        },
      ],
    },
  };
  return JSON.stringify(spec, null, 2);
}

/**
 * Two directors in one IPv6 VRRPv3 group on a lab set up with `ipv6: true` (d1 priority 150,
 * state MASTER; d2 100; multicast to ff02::12, or `unicast` to each other's global address), each our agent (`lvsfleet-agent run --spec`, or the VRRP runner with
 * LVSFLEET_LAB_RUNNER=vrrp) or keepalived.
 */
export function startPair6(lab: NetnsLab, impl: Record<'d1' | 'd2', Impl>, advertMs: number, env?: NodeJS.ProcessEnv, unicast = false): Pair {
  const p: Pair6Spec = { advertMs, vrid: 61, vip: `${lab.subnet6}::50`, unicast };
  const other = { d1: 'd2', d2: 'd1' } as const;
  const prio = { d1: 150, d2: 100 };
  const spec = siteSpec6(lab, p, prio, 'd1');
  const out = { d1: [] as string[], d2: [] as string[] };
  const start = (n: 'd1' | 'd2') =>
    impl[n] === 'keepalived'
      ? capture(
          startKeepalived(lab, n, keepalivedConf6(n, p, prio[n], n === 'd1', { self: lab.host(n).address6!, peer: lab.host(other[n]).address6! })),
          out[n],
        )
      : startOurs(lab, n, spec, out[n], { env });
  // The backup first, so the master's election is observed by a running peer.
  const d2 = start('d2');
  const d1 = start('d1');
  return { lab, vip: p.vip, out, procs: { d1, d2 } };
}
