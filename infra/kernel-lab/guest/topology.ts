/**
 * The lab network inside the guest: one bridge in the root namespace, one namespace per host
 * joined to it by a veth pair (`eth0` inside). Made-up addresses only:
 * 10.99.0.0/24 is the server LAN; the client sources DR/TUN traffic from 10.77.0.2 (routed
 * straight back by the real servers) and NAT traffic from 10.88.0.2 (routed back through the
 * directors' gateway VIP 10.99.0.254, as LVS-NAT requires).
 */
import { procNet } from './proc-net.ts';
import { CommandError, nsh, run, sh } from './sh.ts';

const BRIDGE = 'labbr0';
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

/** One host of the lab: a namespace, its addresses on eth0, and the role that decides its routes. */
export interface HostSpec {
  ns: string;
  role: Role;
  addresses: string[];
}

/** Run `ip -batch` (in `ns` when given): one process for many commands (each costs ~0.5 s under TCG). */
async function ipBatch(lines: string[], ns?: string): Promise<void> {
  const argv = ns ? ['ip', '-n', ns, '-batch', '-'] : ['ip', '-batch', '-'];
  const r = await run(argv, lines.join('\n') + '\n');
  if (r.code !== 0) throw new CommandError(argv, r);
}

/** Create the bridge (multicast flooding on, no STP delay: VRRP adverts must pass at once). */
export async function createBridge(): Promise<void> {
  await ipBatch([`link add ${BRIDGE} type bridge stp_state 0 forward_delay 0 mcast_snooping 0`, `link set ${BRIDGE} up`]);
}

/** The static routes a role needs on eth0 (`ip -batch` lines). */
function roleRoutes(role: Role): string[] {
  // Directors reach the client subnets on the shared segment and forward NAT replies.
  if (role === 'director') return ['route replace 10.77.0.0/24 dev eth0', 'route replace 10.88.0.0/24 dev eth0'];
  // DR/TUN replies go straight to the client; NAT replies must go back through the director.
  if (role === 'realserver') return ['route replace 10.77.0.0/24 dev eth0', `route replace 10.88.0.0/24 via ${NET.natGateway} dev eth0 onlink`];
  if (role === 'client') return [`route replace 10.99.0.0/24 dev eth0 src ${NET.client.dr}`];
  return [];
}

/** Each namespace's role, so setLink can put its routes back. */
const roles = new Map<string, Role>();

/** Create namespaces with `eth0` on the bridge, their addresses and the routes each role needs. */
export async function addHosts(hosts: HostSpec[]): Promise<void> {
  await ipBatch(
    hosts.flatMap(({ ns }) => [`netns add ${ns}`, `link add v-${ns} type veth peer name eth0 netns ${ns}`, `link set v-${ns} master ${BRIDGE} up`]),
  );
  for (const { ns, role, addresses } of hosts) {
    roles.set(ns, role);
    await ipBatch(['link set lo up', 'link set eth0 up', ...addresses.map((a) => `addr add ${a} dev eth0`), ...roleRoutes(role)], ns);
    if (role === 'director') await nsh(ns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
  }
}

/** One host (see {@link addHosts}). */
export function addHost(ns: string, role: Role, addresses: string[]): Promise<void> {
  return addHosts([{ ns, role, addresses }]);
}

/** Link state of `eth0` in `ns` (the crash simulation takes it down). */
export async function setLink(ns: string, up: boolean): Promise<void> {
  await sh('ip', '-n', ns, 'link', 'set', 'eth0', up ? 'up' : 'down');
  // Taking eth0 down deletes every route through it, the static ones too, and up brings back only
  // the connected one: d1 came back from the failover scenario with no route to the NAT client,
  // forwarded no NAT reply, and a later scenario's NAT client got no answer at all.
  const role = roles.get(ns);
  if (up && role) await ipBatch(roleRoutes(role), ns);
}

/** Byte counters of a namespace's eth0, from its /proc/net/dev (the counters /sys shows; no process). */
export async function ifaceBytes(ns: string): Promise<{ rx: number; tx: number }> {
  return devBytes(await procNet(ns, 'dev'), 'eth0');
}

/** `dev`'s received and sent bytes in /proc/net/dev text (`eth0: rxBytes packets … txBytes …`). */
export function devBytes(text: string, dev: string): { rx: number; tx: number } {
  const line = text.split('\n').find((l) => l.trim().startsWith(`${dev}:`));
  if (!line) throw new Error(`no ${dev} in /proc/net/dev`);
  const f = line
    .slice(line.indexOf(':') + 1)
    .trim()
    .split(/\s+/)
    .map(Number);
  return { rx: f[0], tx: f[8] };
}

/** IPv4 addresses on an interface of a namespace. */
export async function addressesOf(ns: string, dev: string): Promise<string[]> {
  const out = await sh('ip', '-n', ns, '-j', '-4', 'addr', 'show', 'dev', dev);
  const list = JSON.parse(out) as { addr_info?: { local: string }[] }[];
  return list.flatMap((l) => (l.addr_info ?? []).map((a) => a.local));
}
