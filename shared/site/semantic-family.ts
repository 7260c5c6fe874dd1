/**
 * Address-family rules (IPv4, IPv6 and both in one site): one family per VRRP instance, VRRPv3
 * for IPv6, an address of the right family for every member and real server, link-local
 * addresses only where a link is named, and IPVS's rule for destinations of the other family.
 */
import { formatHostPort, isLinkLocal, type IpFamily } from '../util/ip.ts';
import { familyOf, instanceFamily, nodeAddress, realServerAddress, vipAddress } from './family.ts';
import type { SpecIssue } from './issues.ts';
import type { Node, Site } from './site.ts';
import type { RealServer, Service } from './service.ts';
import type { VrrpInstance } from './vrrp.ts';

const NAME: Record<IpFamily, string> = { 4: 'IPv4', 6: 'IPv6' };

/** keepalived: an instance is one family; RFC 5798 for IPv6; members, peers and link-local addresses to match. */
export function checkVrrpFamily(inst: VrrpInstance, p: string, nodes: ReadonlyMap<string, Node>, out: SpecIssue[]): void {
  const family = instanceFamily(inst);
  if (family === 6 && inst.version === 2)
    out.push({ path: `${p}.version`, message: 'VRRPv2 is IPv4 only (RFC 3768 §1); an IPv6 instance runs VRRPv3 (RFC 5798): use version 3' });
  inst.vips.forEach((v, j) => {
    const f = familyOf(vipAddress(v));
    if (f !== family)
      out.push({
        path: `${p}.vips[${j}]`,
        message: `${vipAddress(v)} is ${NAME[f]} in an ${NAME[family]} instance: an instance is one family (put it in an instance of its own, or in excludedVips)`,
      });
  });
  // A link-local address is one on a named link: the VIP's own interface or one the instance names.
  const named = (m: VrrpInstance['members'][number]) => m.interface ?? inst.interface ?? nodes.get(m.node)?.interface;
  const allNamed = inst.members.every((m) => named(m) !== undefined);
  [...inst.vips.map((v, j) => ({ v, path: `${p}.vips[${j}]` })), ...(inst.excludedVips ?? []).map((v, j) => ({ v, path: `${p}.excludedVips[${j}]` }))].forEach(
    ({ v, path }) => {
      if (isLinkLocal(vipAddress(v)) && (typeof v === 'string' || v.interface === undefined) && !allNamed)
        out.push({ path, message: `${vipAddress(v)} is link-local (fe80::/10): name its link with { address, interface } or the instance's interface` });
    },
  );
  [...inst.vips, ...(inst.excludedVips ?? [])].forEach((v, j) => {
    if (typeof v !== 'string' && v.label !== undefined && familyOf(vipAddress(v)) === 6) {
      const path = j < inst.vips.length ? `${p}.vips[${j}]` : `${p}.excludedVips[${j - inst.vips.length}]`;
      out.push({ path: `${path}.label`, message: 'address labels are IPv4 only (iproute2; keepalived ignores them on IPv6 addresses): remove the label' });
    }
  });
  inst.members.forEach((m, j) => {
    const mp = `${p}.members[${j}]`;
    const node = nodes.get(m.node);
    if (m.sourceAddress !== undefined) {
      const f = familyOf(m.sourceAddress);
      if (f !== family) out.push({ path: `${mp}.sourceAddress`, message: `${m.sourceAddress} is ${NAME[f]}; this instance is ${NAME[family]}` });
      else if (isLinkLocal(m.sourceAddress) && named(m) === undefined)
        out.push({ path: `${mp}.sourceAddress`, message: `${m.sourceAddress} is link-local: name the member's interface (or the instance's)` });
    } else if (node && nodeAddress(node, family) === null)
      out.push({
        path: `${mp}.node`,
        message: `node "${m.node}" has no ${NAME[family]} address for this ${NAME[family]} instance: give the node address6, or the member a sourceAddress`,
      });
  });
  (inst.unicastPeers ?? []).forEach((a, k) => {
    const f = familyOf(a);
    if (f !== family) out.push({ path: `${p}.unicastPeers[${k}]`, message: `${a} is ${NAME[f]}; this instance is ${NAME[family]}` });
    else if (isLinkLocal(a) && !allNamed)
      out.push({ path: `${p}.unicastPeers[${k}]`, message: `${a} is link-local: name the instance's interface, on which the peer is reached` });
  });
}

/** The families a service serves: its VIPs', or an fwmark service's `family` (default 4). */
function serviceFamilies(svc: Service): IpFamily[] {
  const vips = svc.vips ?? (svc.vip === undefined ? [] : [svc.vip]);
  return vips.length ? vips.map(familyOf) : [svc.family ?? 4];
}

/**
 * IPVS destinations of the other family: Linux (ip_vs_ctl.c, ip_vs_genl_set_cmd, since 3.18)
 * refuses a destination whose family differs from its service's unless it forwards by tunnel
 * (IP_VS_CONN_F_TUNNEL: IPIP or GUE carry either family), and refuses any while the connection
 * sync daemon runs, whose protocol cannot carry them. NAT and DR rewrite or reuse the packet's
 * own header and cannot change its family.
 */
function crossFamily(what: string, f: IpFamily, family: IpFamily, fwd: string, site: Site): string | null {
  if (f === family) return null;
  if (fwd !== 'tun')
    return `${what} is ${NAME[f]} behind an ${NAME[family]} service: only TUN forwarding crosses families in IPVS (the kernel refuses ${fwd.toUpperCase()}); use an ${NAME[family]} address or forwarding: tun`;
  if (site.spec.connectionSync)
    return `${what} is ${NAME[f]} behind an ${NAME[family]} service: the kernel refuses destinations of another family while connection sync runs (spec.connectionSync)`;
  return null;
}

/** The Linux kernel refuses a link-local destination (ip_vs_new_dest: IPV6_ADDR_LINKLOCAL → EINVAL). */
const LINK_LOCAL_DEST = 'is link-local (fe80::/10): the kernel refuses a link-local IPVS destination; use a global or unique-local address';

/** Family rules of one service: VIPs, real servers and the sorry server. */
export function checkServiceFamily(site: Site, svc: Service, p: string, nodes: ReadonlyMap<string, Node>, defaultFwd: string, out: SpecIssue[]): void {
  if (svc.vip !== undefined && svc.vips !== undefined) out.push({ path: `${p}.vips`, message: 'give vip or vips, not both' });
  if (svc.fwmark !== undefined && svc.vips !== undefined) out.push({ path: `${p}.vips`, message: 'an fwmark service has no vips; remove vips or fwmark' });
  if (svc.family !== undefined && svc.fwmark === undefined)
    out.push({ path: `${p}.family`, message: 'family is for fwmark services; a VIP service has the family of its VIP' });
  if (svc.vips?.length === 2 && familyOf(svc.vips[0]) === familyOf(svc.vips[1]))
    out.push({ path: `${p}.vips[1]`, message: 'vips holds one IPv4 and one IPv6 address (dual stack); give a second service for another VIP of one family' });
  (svc.vips ?? (svc.vip === undefined ? [] : [svc.vip])).forEach((vip, k) => {
    if (isLinkLocal(vip))
      out.push({
        path: svc.vips ? `${p}.vips[${k}]` : `${p}.vip`,
        message: `${vip} is link-local (fe80::/10): a service VIP must be reachable beyond one link`,
      });
  });
  const families = serviceFamilies(svc);
  const dualStack = families.length > 1;
  if (families.includes(6) && svc.persistence?.netmask !== undefined && !dualStack)
    out.push({ path: `${p}.persistence.netmask`, message: 'a netmask groups IPv4 clients; an IPv6 service persists per client address' });

  let svcBindIssue = false;
  svc.realServers.forEach((rs: RealServer, j) => {
    const rp = `${p}.realServers[${j}]`;
    const fwd = rs.forwarding ?? defaultFwd;
    // keepalived skips a checker whose bindto is not of the family it connects to ("does not match address family").
    const hc = rs.healthCheck ?? svc.healthCheck;
    if (hc?.bindTo !== undefined) {
      const targets = hc.address !== undefined ? [hc.address] : families.flatMap((f) => realServerAddress(rs, nodes, f, dualStack) ?? []);
      const other = targets.find((t) => familyOf(t) !== familyOf(hc.bindTo!));
      if (other !== undefined && (rs.healthCheck || !svcBindIssue)) {
        out.push({
          path: `${rs.healthCheck ? rp : p}.healthCheck.bindTo`,
          message: `the check binds to ${hc.bindTo} but connects to ${other}: a probe's source and target are of one family`,
        });
        svcBindIssue ||= !rs.healthCheck;
      }
    }
    if (rs.address !== undefined) {
      if (isLinkLocal(rs.address)) out.push({ path: `${rp}.address`, message: `${rs.address} ${LINK_LOCAL_DEST}` });
      // Dual stack: an address joins the VIP of its own family, so no family is crossed.
      const issue = dualStack ? null : crossFamily(`real server ${rs.address}`, familyOf(rs.address), families[0], fwd, site);
      if (issue) out.push({ path: `${rp}.address`, message: issue });
      return;
    }
    const node = rs.node === undefined ? undefined : nodes.get(rs.node);
    if (!node || node.role !== 'realserver') return; // reported by checkServices
    for (const family of families) {
      if (nodeAddress(node, family) !== null) continue;
      const issue = dualStack
        ? `node "${node.name}" has no ${NAME[family]} address for the ${NAME[family]} VIP of this dual-stack service: give it ${family === 6 ? 'address6' : 'an IPv4 address'}, or list it by address`
        : crossFamily(`node "${node.name}" (${node.address})`, familyOf(node.address), family, fwd, site);
      if (issue) out.push({ path: `${rp}.node`, message: family === 6 && !dualStack && fwd !== 'tun' ? `${issue}, or give the node address6` : issue });
    }
  });
  if (svc.sorryServer) {
    const a = svc.sorryServer.address;
    if (isLinkLocal(a)) out.push({ path: `${p}.sorryServer.address`, message: `${a} ${LINK_LOCAL_DEST}` });
    const issue = dualStack ? null : crossFamily(`sorry server ${a}`, familyOf(a), families[0], svc.sorryServer.forwarding ?? defaultFwd, site);
    if (issue) out.push({ path: `${p}.sorryServer.address`, message: issue });
  }
}

/** The `proto VIP:port` keys a service is served at, with the path each is reported at (IPv6 bracketed). */
export function servedKeys(svc: Service, p: string, proto: string): { key: string; path: string }[] {
  if (svc.fwmark !== undefined) return [{ key: `fwmark ${svc.fwmark}${svc.family === 6 ? ' (IPv6)' : ''}`, path: `${p}.fwmark` }];
  const vips = svc.vips ?? [svc.vip ?? 'undefined'];
  return vips.map((vip) => ({ key: `${proto} ${formatHostPort(vip, svc.port ?? 'undefined')}`, path: `${p}.port` }));
}
