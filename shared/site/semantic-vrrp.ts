import { durationMs } from '../util/duration.ts';
import { isIpv6, splitCidr } from '../util/ip.ts';
import { instanceFamily, instanceVersion } from './family.ts';
import { checkVrrpFamily } from './semantic-family.ts';
import { DEFAULTS, memberInterface } from './defaults.ts';
import { uniqueNames, type SpecIssue } from './issues.ts';
import type { Node, Site } from './site.ts';
import type { Vip, VrrpInstance } from './vrrp.ts';

/** Which instance uses each `${iface}/${family}/${vrid}`, and which entry holds each VIP, across the site. */
interface SiteWide {
  vridOn: Map<string, string>;
  vipHeldBy: Map<string, string>;
}

/**
 * VRRP rules: names, references, legality per RFC 3768 §5.3 / RFC 5798 §5.2, and what must be
 * unique in the site. A site is one L2 domain per interface name, so a VRID is unique per
 * interface, family and site: two instances with the same VRID on eth0 would share a virtual MAC
 * (RFC 5798 §7.3), even with disjoint members. An IPv4 and an IPv6 instance may share one
 * (RFC 5798 §7.3 gives each family its own virtual MAC range, 00-00-5E-00-01-{VRID} and
 * 00-00-5E-00-02-{VRID}, and adverts go to different groups and protocols), as keepalived allows.
 */
export function checkVrrp(site: Site, nodes: ReadonlyMap<string, Node>, out: SpecIssue[]): void {
  const { spec } = site;
  uniqueNames(spec.vrrp, 'spec.vrrp', 'VRRP instance', out);
  uniqueNames(spec.vrrpScripts, 'spec.vrrpScripts', 'vrrp script', out);
  uniqueNames(spec.syncGroups, 'spec.syncGroups', 'sync group', out);
  const scripts = new Set((spec.vrrpScripts ?? []).map((s) => s.name));
  const seen: SiteWide = { vridOn: new Map(), vipHeldBy: new Map() };

  (spec.vrrp ?? []).forEach((inst, i) => {
    const p = `spec.vrrp[${i}]`;
    checkSettings(inst, p, out);
    checkVips(inst, p, seen, out);
    checkVrrpFamily(inst, p, nodes, out);
    checkMembers(inst, p, nodes, seen, out);
    checkLabels(inst, p, nodes, out);
    (inst.trackScripts ?? []).forEach((t, j) => {
      if (!scripts.has(t.script)) out.push({ path: `${p}.trackScripts[${j}].script`, message: `no vrrp script named "${t.script}" in spec.vrrpScripts` });
    });
    if (inst.unicast && inst.members.length < 2 && !(inst.unicastPeers ?? []).length)
      out.push({ path: `${p}.unicast`, message: 'unicast needs at least one peer: another member or unicastPeers' });
  });

  const instanceNames = new Set((spec.vrrp ?? []).map((v) => v.name));
  const inGroup = new Map<string, string>();
  (spec.syncGroups ?? []).forEach((g, i) => {
    g.instances.forEach((name, j) => {
      const path = `spec.syncGroups[${i}].instances[${j}]`;
      if (!instanceNames.has(name)) out.push({ path, message: `no VRRP instance named "${name}"` });
      else if (inGroup.has(name)) out.push({ path, message: `instance "${name}" is already in sync group "${inGroup.get(name)}"` });
      else inGroup.set(name, g.name);
    });
  });
  (spec.vrrpScripts ?? []).forEach((s, i) => {
    // keepalived vrrp_script: interval and timeout are at least 1ms (resolution milliseconds).
    if (s.interval !== undefined && durationMs(s.interval) < 1) out.push({ path: `spec.vrrpScripts[${i}].interval`, message: 'interval must be at least 1ms' });
    if (s.timeout !== undefined && durationMs(s.timeout) < 1) out.push({ path: `spec.vrrpScripts[${i}].timeout`, message: 'timeout must be at least 1ms' });
  });
  if (spec.connectionSync && !instanceNames.has(spec.connectionSync.instance))
    out.push({ path: 'spec.connectionSync.instance', message: `no VRRP instance named "${spec.connectionSync.instance}"` });
  // The kernel clamps a master's sync_maxlen to 65535 − headers: 65487 with IPv6's 40-byte header.
  const cs = spec.connectionSync;
  if (cs?.maxlen !== undefined && cs.group !== undefined && isIpv6(cs.group) && cs.maxlen > MAXLEN_IPV6)
    out.push({ path: 'spec.connectionSync.maxlen', message: `maxlen ${cs.maxlen} is more than an IPv6 sync message can carry (at most ${MAXLEN_IPV6} bytes)` });
}

/** The largest IPv6 sync message: 65535 less the IPv6 (40) and UDP (8) headers (ip_vs_sync.c). */
const MAXLEN_IPV6 = 65_487;

/** Advert interval, authentication and preemption: what the protocol version allows. */
function checkSettings(inst: VrrpInstance, p: string, out: SpecIssue[]): void {
  const version = instanceVersion(inst);
  if (inst.advertInterval !== undefined) {
    const ms = durationMs(inst.advertInterval);
    if (version === 2 && (ms % 1000 !== 0 || ms < 1000 || ms > 255_000))
      out.push({ path: `${p}.advertInterval`, message: 'VRRPv2 adverts are whole seconds from 1s to 255s (RFC 3768 §5.3.7)' });
    if (version === 3 && (ms % 10 !== 0 || ms < 10 || ms > 40_950))
      out.push({ path: `${p}.advertInterval`, message: 'VRRPv3 adverts are multiples of 10ms from 10ms to 40.95s (RFC 5798 §5.2.7)' });
  }
  // keepalived refuses a VRRPv3 instance without addresses ("No VIP specified; at least one is required").
  if (version === 3 && inst.vips.length === 0)
    out.push({ path: `${p}.vips`, message: 'a VRRPv3 instance needs at least one VIP (RFC 5798 §5.2.9); VRRPv2 allows none' });
  if (inst.auth) {
    if (version === 3) out.push({ path: `${p}.auth`, message: 'VRRPv3 has no authentication (RFC 5798 §9); remove auth or use version 2' });
    else if (inst.auth.type === 'AH') out.push({ path: `${p}.auth.type`, message: 'AH authentication is not supported; use PASS' });
    else if (new TextEncoder().encode(inst.auth.password).length > 8)
      out.push({ path: `${p}.auth.password`, message: 'PASS passwords are at most 8 bytes (RFC 3768 §5.3.10)' });
  }
  if (inst.preemptDelay !== undefined && inst.preempt === false)
    out.push({ path: `${p}.preemptDelay`, message: 'preemptDelay has no effect with preempt: false' });
  if (inst.preemptDelay !== undefined && durationMs(inst.preemptDelay) > DEFAULTS.preemptDelayMaxMs)
    out.push({ path: `${p}.preemptDelay`, message: 'preemptDelay is at most 1000s' });
}

/** The instance's VIPs and excluded VIPs, each with its path. */
function allVips(inst: VrrpInstance, p: string): { vip: Vip; address: string; path: string }[] {
  return [...inst.vips, ...(inst.excludedVips ?? [])].map((vip, j) => ({
    vip,
    address: splitCidr(typeof vip === 'string' ? vip : vip.address).address,
    path: j < inst.vips.length ? `${p}.vips[${j}]` : `${p}.excludedVips[${j - inst.vips.length}]`,
  }));
}

/** A virtual address is held by one entry in the site. */
function checkVips(inst: VrrpInstance, p: string, seen: SiteWide, out: SpecIssue[]): void {
  for (const { address, path } of allVips(inst, p)) {
    const prev = seen.vipHeldBy.get(address);
    if (prev) out.push({ path, message: `virtual address ${address} is already held by ${prev}` });
    else seen.vipHeldBy.set(address, path);
  }
}

/** Members are directors, once each; priority 255 only for the address owner; the VRID is free on each member's interface for the instance's family. */
function checkMembers(inst: VrrpInstance, p: string, nodes: ReadonlyMap<string, Node>, seen: SiteWide, out: SpecIssue[]): void {
  const vipAddrs = new Set(allVips(inst, p).map((v) => v.address));
  const memberSeen = new Set<string>();
  let vridClash = false;
  inst.members.forEach((m, j) => {
    const mp = `${p}.members[${j}]`;
    const node = nodes.get(m.node);
    if (!node) out.push({ path: `${mp}.node`, message: `no node named "${m.node}" in spec.nodes` });
    else if (node.role !== 'director') out.push({ path: `${mp}.node`, message: `node "${m.node}" is a ${node.role}; VRRP members must be directors` });
    if (memberSeen.has(m.node)) out.push({ path: `${mp}.node`, message: `node "${m.node}" is a member twice` });
    memberSeen.add(m.node);
    const owns = node && (vipAddrs.has(node.address) || (node.address6 !== undefined && vipAddrs.has(node.address6)));
    if (m.priority === 255 && node && !owns && !(m.sourceAddress && vipAddrs.has(m.sourceAddress)))
      out.push({ path: `${mp}.priority`, message: 'priority 255 is only for the owner of the virtual addresses (RFC 5798 §5.2.4); use 1–254' });
    const iface = memberInterface(inst, m, node);
    const key = `${iface}/${instanceFamily(inst)}/${inst.vrid}`;
    const prev = seen.vridOn.get(key);
    if (prev && prev !== p) {
      // One issue per instance, naming the first clash (RFC 5798 §7.1: a VRID is unique on a LAN).
      if (!vridClash) out.push({ path: `${p}.vrid`, message: `VRID ${inst.vrid} is already used on ${iface} in this site by ${prev}` });
      vridClash = true;
    } else seen.vridOn.set(key, p);
  });
}

/** iproute2: an address label must be the device name or start with "<dev>:" (keepalived `label`), on every member. */
function checkLabels(inst: VrrpInstance, p: string, nodes: ReadonlyMap<string, Node>, out: SpecIssue[]): void {
  for (const { vip, path } of allVips(inst, p)) {
    if (typeof vip === 'string' || vip.label === undefined) continue;
    for (const m of inst.members) {
      const dev = vip.interface ?? memberInterface(inst, m, nodes.get(m.node));
      if (vip.label !== dev && !vip.label.startsWith(`${dev}:`)) {
        out.push({ path: `${path}.label`, message: `label "${vip.label}" must be "${dev}" or start with "${dev}:" (on ${m.node})` });
        break;
      }
    }
  }
}
