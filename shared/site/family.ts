/**
 * Address families in a site: which family an instance, a service VIP and a real server are, and
 * which of a node's addresses serves a family. One place, read by validation and the compiler.
 */
import { ipFamily, splitCidr, type IpFamily } from '../util/ip.ts';
import { DEFAULTS } from './defaults.ts';
import type { Service } from './service.ts';
import type { Node } from './site.ts';
import type { Vip, VrrpInstance } from './vrrp.ts';

/** The address of a VIP entry, without its prefix. */
export function vipAddress(v: Vip): string {
  return splitCidr(typeof v === 'string' ? v : v.address).address;
}

/** The family of an address the schema accepted (an IPv6 one has a colon, an IPv4 one none). */
export function familyOf(address: string): IpFamily {
  return ipFamily(address) ?? (address.includes(':') ? 6 : 4);
}

/**
 * keepalived: an instance's family is that of its first virtual_ipaddress, or IPv6 with
 * `native_ipv6`; an instance without VIPs is IPv4.
 */
export function instanceFamily(inst: Pick<VrrpInstance, 'family' | 'vips'>): IpFamily {
  return inst.family ?? (inst.vips.length ? familyOf(vipAddress(inst.vips[0])) : 4);
}

/** The node's address of a family: `address` when it is of that family, else `address6` for IPv6, else null. */
export function nodeAddress(node: Pick<Node, 'address' | 'address6'>, family: IpFamily): string | null {
  if (familyOf(node.address) === family) return node.address;
  return family === 6 ? (node.address6 ?? null) : null;
}

/** A service's VIPs: `vips` (dual stack) or its one `vip`; none for an fwmark service. */
export function serviceVips(svc: Pick<Service, 'vip' | 'vips'>): string[] {
  return svc.vips ?? (svc.vip === undefined ? [] : [svc.vip]);
}

type RealServerRef = Pick<Service['realServers'][number], 'node' | 'address'>;

/**
 * Where a real server is reached for one VIP of its service: a node at its address of the VIP's
 * family, an `address` as given. In a dual-stack service each real server belongs to the VIP of
 * its own family (null for the other one); in a single-VIP service it is always there, in the
 * other family when validation allowed it (TUN). Null too when a node reference is unknown.
 */
export function realServerAddress(rs: RealServerRef, nodes: ReadonlyMap<string, Node>, family: IpFamily, dualStack: boolean): string | null {
  if (rs.address !== undefined) return familyOf(rs.address) === family || !dualStack ? rs.address : null;
  const node = rs.node === undefined ? undefined : nodes.get(rs.node);
  if (!node) return null;
  return nodeAddress(node, family) ?? (dualStack ? null : node.address);
}

/**
 * The VRRP version an instance runs: its own, else 3 for IPv6 (RFC 3768 is IPv4 only; keepalived
 * runs an IPv6 instance as VRRPv3), else lvsfleet's default.
 */
export function instanceVersion(inst: Pick<VrrpInstance, 'version' | 'family' | 'vips'>): 2 | 3 {
  return inst.version ?? (instanceFamily(inst) === 6 ? 3 : DEFAULTS.vrrpVersion);
}
