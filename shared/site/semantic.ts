import { durationMs } from '../util/duration.ts';
import { splitCidr } from '../util/ip.ts';
import { uniqueNames, type SpecIssue } from './issues.ts';
import type { Site } from './site.ts';
import { checkServices } from './semantic-services.ts';
import { DEFAULTS, memberInterface } from './defaults.ts';

/**
 * Rules zod cannot express (docs/architecture.md, "Validation and errors"): references, uniqueness, VRRP legality
 * (RFC 3768 §5.3 / RFC 5798 §5.2), IPVS legality (no VIP:port twice, DR/TUN cannot map ports).
 */
export function semanticIssues(site: Site): SpecIssue[] {
  const out: SpecIssue[] = [];
  const { spec } = site;
  const nodes = new Map(spec.nodes.map((n) => [n.name, n]));

  uniqueNames(spec.nodes, 'spec.nodes', 'node', out);
  const addrSeen = new Map<string, number>();
  spec.nodes.forEach((n, i) => {
    const first = addrSeen.get(n.address);
    if (first !== undefined) out.push({ path: `spec.nodes[${i}].address`, message: `address ${n.address} is already used by spec.nodes[${first}]` });
    else addrSeen.set(n.address, i);
  });

  uniqueNames(spec.vrrp, 'spec.vrrp', 'VRRP instance', out);
  uniqueNames(spec.vrrpScripts, 'spec.vrrpScripts', 'vrrp script', out);
  uniqueNames(spec.syncGroups, 'spec.syncGroups', 'sync group', out);
  const scripts = new Set((spec.vrrpScripts ?? []).map((s) => s.name));
  // A VRID is unique per interface and site. A site is one L2 domain per interface name,
  // so two instances with the same VRID on eth0 would share a virtual MAC (RFC 5798 §7.3), even
  // with disjoint members.
  const vridOn = new Map<string, string>(); // `${iface}/${vrid}` -> path
  const vipHeldBy = new Map<string, string>(); // VIP address -> path of the entry holding it

  (spec.vrrp ?? []).forEach((inst, i) => {
    const p = `spec.vrrp[${i}]`;
    const version = inst.version ?? DEFAULTS.vrrpVersion;
    if (inst.advertInterval !== undefined) {
      const ms = durationMs(inst.advertInterval);
      if (version === 2 && (ms % 1000 !== 0 || ms < 1000 || ms > 255_000))
        out.push({ path: `${p}.advertInterval`, message: 'VRRPv2 adverts are whole seconds from 1s to 255s (RFC 3768 §5.3.7)' });
      if (version === 3 && (ms % 10 !== 0 || ms < 10 || ms > 40_950))
        out.push({ path: `${p}.advertInterval`, message: 'VRRPv3 adverts are multiples of 10ms from 10ms to 40.95s (RFC 5798 §5.2.7)' });
    }
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

    const vipAddrs = new Set([...inst.vips, ...(inst.excludedVips ?? [])].map((v) => splitCidr(typeof v === 'string' ? v : v.address).address));
    [...inst.vips, ...(inst.excludedVips ?? [])].forEach((v, j) => {
      const address = splitCidr(typeof v === 'string' ? v : v.address).address;
      const vp = j < inst.vips.length ? `${p}.vips[${j}]` : `${p}.excludedVips[${j - inst.vips.length}]`;
      const prev = vipHeldBy.get(address);
      if (prev) out.push({ path: vp, message: `virtual address ${address} is already held by ${prev}` });
      else vipHeldBy.set(address, vp);
    });
    const memberSeen = new Set<string>();
    let vridClash = false;
    inst.members.forEach((m, j) => {
      const mp = `${p}.members[${j}]`;
      const node = nodes.get(m.node);
      if (!node) out.push({ path: `${mp}.node`, message: `no node named "${m.node}" in spec.nodes` });
      else if (node.role !== 'director') out.push({ path: `${mp}.node`, message: `node "${m.node}" is a ${node.role}; VRRP members must be directors` });
      if (memberSeen.has(m.node)) out.push({ path: `${mp}.node`, message: `node "${m.node}" is a member twice` });
      memberSeen.add(m.node);
      if (m.priority === 255 && node && !vipAddrs.has(node.address) && !(m.sourceAddress && vipAddrs.has(m.sourceAddress)))
        out.push({ path: `${mp}.priority`, message: 'priority 255 is only for the owner of the virtual addresses (RFC 5798 §5.2.4); use 1–254' });
      const iface = memberInterface(inst, m, node);
      const key = `${iface}/${inst.vrid}`;
      const prev = vridOn.get(key);
      if (prev && prev !== p) {
        // One issue per instance, naming the first clash (RFC 5798 §7.1: a VRID is unique on a LAN).
        if (!vridClash) out.push({ path: `${p}.vrid`, message: `VRID ${inst.vrid} is already used on ${iface} in this site by ${prev}` });
        vridClash = true;
      } else vridOn.set(key, p);
    });
    // iproute2: an address label must be the device name or start with "<dev>:" (keepalived `label`).
    [...inst.vips, ...(inst.excludedVips ?? [])].forEach((v, j) => {
      if (typeof v === 'string' || v.label === undefined) return;
      const vp = j < inst.vips.length ? `${p}.vips[${j}]` : `${p}.excludedVips[${j - inst.vips.length}]`;
      for (const m of inst.members) {
        const dev = v.interface ?? memberInterface(inst, m, nodes.get(m.node));
        if (v.label !== dev && !v.label.startsWith(`${dev}:`)) {
          out.push({ path: `${vp}.label`, message: `label "${v.label}" must be "${dev}" or start with "${dev}:" (on ${m.node})` });
          break;
        }
      }
    });
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

  checkServices(site, nodes, out);
  return out;
}
