/**
 * The lab network inside the guest: one bridge in the root namespace, one namespace per host
 * joined to it by a veth pair (`eth0` inside). Made-up addresses only:
 * 10.99.0.0/24 is the server LAN; the client sources DR/TUN traffic from 10.77.0.2 (routed
 * straight back by the real servers) and NAT traffic from 10.88.0.2 (routed back through the
 * directors' gateway VIP 10.99.0.254, as LVS-NAT requires).
 */
import { nsh, sh } from './sh.ts';

export const BRIDGE = 'labbr0';
export const NET = {
  client: { dr: '10.77.0.2', nat: '10.88.0.2' },
  d1: '10.99.0.11',
  d2: '10.99.0.12',
  k1: '10.99.0.13',
  k2: '10.99.0.14',
  rs1: '10.99.0.21',
  rs2: '10.99.0.22',
  rs3: '10.99.0.23',
  natGateway: '10.99.0.254',
} as const;

export type Role = 'client' | 'director' | 'realserver' | 'plain';

async function sysctl(ns: string, key: string, value: string | number): Promise<void> {
  await nsh(ns, 'sysctl', '-q', '-w', `${key}=${value}`);
}

/** Create the bridge (multicast flooding on, no STP delay: VRRP adverts must pass at once). */
export async function createBridge(): Promise<void> {
  await sh('ip', 'link', 'add', BRIDGE, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0');
  await sh('ip', 'link', 'set', BRIDGE, 'up');
}

/** Create namespace `ns` with `eth0` on the bridge and the routes its role needs. */
export async function addHost(ns: string, role: Role, addresses: string[]): Promise<void> {
  await sh('ip', 'netns', 'add', ns);
  const peer = `v-${ns}`;
  await sh('ip', 'link', 'add', peer, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
  await sh('ip', 'link', 'set', peer, 'master', BRIDGE, 'up');
  await nsh(ns, 'ip', 'link', 'set', 'lo', 'up');
  await nsh(ns, 'ip', 'link', 'set', 'eth0', 'up');
  for (const a of addresses) await nsh(ns, 'ip', 'addr', 'add', a, 'dev', 'eth0');
  if (role === 'client') {
    await nsh(ns, 'ip', 'route', 'add', '10.99.0.0/24', 'dev', 'eth0', 'src', NET.client.dr);
  }
  if (role === 'director') {
    // Directors reach the client subnets on the shared segment and forward NAT replies.
    await nsh(ns, 'ip', 'route', 'add', '10.77.0.0/24', 'dev', 'eth0');
    await nsh(ns, 'ip', 'route', 'add', '10.88.0.0/24', 'dev', 'eth0');
    await sysctl(ns, 'net.ipv4.ip_forward', 1);
  }
  if (role === 'realserver') {
    // DR/TUN replies go straight to the client; NAT replies must go back through the director.
    await nsh(ns, 'ip', 'route', 'add', '10.77.0.0/24', 'dev', 'eth0');
    await nsh(ns, 'ip', 'route', 'add', '10.88.0.0/24', 'via', NET.natGateway, 'dev', 'eth0', 'onlink');
  }
}

/** Link state of `eth0` in `ns` (the crash simulation takes it down). */
export async function setLink(ns: string, up: boolean): Promise<void> {
  await nsh(ns, 'ip', 'link', 'set', 'eth0', up ? 'up' : 'down');
}

/** Byte counters of a namespace's eth0 (from /sys, no extra tools). */
export async function ifaceBytes(ns: string): Promise<{ rx: number; tx: number }> {
  const rx = Number((await nsh(ns, 'cat', '/sys/class/net/eth0/statistics/rx_bytes')).trim());
  const tx = Number((await nsh(ns, 'cat', '/sys/class/net/eth0/statistics/tx_bytes')).trim());
  return { rx, tx };
}

/** IPv4 addresses on an interface of a namespace. */
export async function addressesOf(ns: string, dev: string): Promise<string[]> {
  const out = await nsh(ns, 'ip', '-j', '-4', 'addr', 'show', 'dev', dev);
  const list = JSON.parse(out) as { addr_info?: { local: string }[] }[];
  return list.flatMap((l) => (l.addr_info ?? []).map((a) => a.local));
}
