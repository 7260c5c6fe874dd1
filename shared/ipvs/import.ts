/**
 * `lvsfleet import ipvsadm FILE`: ipvsadm -S / -Sn output (e.g. /etc/sysconfig/ipvsadm) →
 * a site with one director and its services. The rules do not say the director's address,
 * so the caller must give it.
 */
import type { Diagnostic } from '../keepalived/diagnostics.ts';
import { formatDuration } from '../util/duration.ts';
import { SCHEDULERS } from '../site/ipvs-words.ts';
import type { Service } from '../site/service.ts';
import type { Site } from '../site/site.ts';
import { validateSite } from '../site/validate.ts';
import { IpvsadmSyntaxError } from './codec.ts';
import { readRule } from './lenient.ts';
import { serviceKey, type IpvsService } from './model.ts';
import { formatHostPort } from '../util/ip.ts';

export interface IpvsadmImportOptions {
  site: string;
  node: string;
  address?: string;
  interface?: string;
}

/** How diagnostics name a service: `tcp 10.0.0.1:80`, `tcp [2001:db8::10]:80`, `fwmark 7`, `fwmark 7 (IPv6)`. */
function describe(s: IpvsService): string {
  return s.fwmark ? `fwmark ${s.fwmark}${s.family === 6 ? ' (IPv6)' : ''}` : `${s.protocol} ${formatHostPort(s.address!, s.port)}`;
}

/** A service's name from its identity: `tcp-10.0.0.1-80`, `tcp-2001-db8--10-80` (a name has no ":"), `fwmark-7`, `fwmark-7-v6`. */
function nameOf(s: IpvsService): string {
  return s.fwmark ? `fwmark-${s.fwmark}${s.family === 6 ? '-v6' : ''}` : `${s.protocol}-${s.address!.replaceAll(':', '-')}-${s.port}`;
}

/** Parses every line; errors carry FILE:LINE. Destinations before their service are errors. */
export function importIpvsadm(text: string, file: string, opts: IpvsadmImportOptions): { site?: Site; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const services = new Map<string, Service>();
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (/^(ipvsadm\s+)?(-C|--clear|-L|-l|--list|-Z|--zero|-S|--save|-R|--restore)\b/.test(trimmed)) {
      diagnostics.push({ severity: 'warning', file, line, message: `"${trimmed}" is not a rule; ignored` });
      return;
    }
    try {
      const rule = readRule(raw);
      if (!rule) return;
      const { op } = rule;
      const key = describe(op.service);
      if (op.op === 'add-service' || op.op === 'edit-service') {
        const s = op.service;
        if (services.has(serviceKey(s))) throw new IpvsadmSyntaxError(`service ${key} is added twice`);
        if (!(SCHEDULERS as readonly string[]).includes(s.scheduler)) throw new IpvsadmSyntaxError(`unknown scheduler "${s.scheduler}"`);
        const flags = s.flags.filter((f) => ['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port'].includes(f));
        if (flags.length !== s.flags.length)
          diagnostics.push({
            severity: 'warning',
            file,
            line,
            message: `scheduler flags ${rule.schedFlags}: only sh-/mh- flags can be expressed; others ignored`,
          });
        const svc: Service = {
          name: nameOf(s),
          ...(s.fwmark ? { fwmark: s.fwmark, ...(s.family === 6 ? { family: 6 as const } : {}) } : { vip: s.address!, port: s.port, protocol: s.protocol }),
          scheduler: s.scheduler as Service['scheduler'],
          ...(flags.length ? { schedulerFlags: flags as Service['schedulerFlags'] } : {}),
          ...(s.persistence
            ? {
                persistence: {
                  timeout: formatDuration(s.persistence.timeoutS * 1000),
                  ...(s.family !== 6 && s.persistence.netmask !== '255.255.255.255' ? { netmask: s.persistence.netmask } : {}),
                },
              }
            : {}),
          ...(s.onePacket ? { onePacket: true } : {}),
          realServers: [],
        };
        if (s.family === 6 && s.persistence && s.persistence.netmask !== '128')
          diagnostics.push({
            severity: 'warning',
            file,
            line,
            message: `persistence prefix /${s.persistence.netmask} of an IPv6 service cannot be expressed in a site spec (one client address is); ignored`,
          });
        if (rule.pe)
          diagnostics.push({ severity: 'warning', file, line, message: `persistence engine ${rule.pe} cannot be expressed in a site spec; ignored` });
        services.set(serviceKey(s), svc);
        return;
      }
      if (op.op !== 'add-dest' && op.op !== 'edit-dest') throw new IpvsadmSyntaxError('not a rule: expected -A (add service) or -a (add server)');
      const owner = services.get(serviceKey(op.service));
      if (!owner) throw new IpvsadmSyntaxError(`real server for ${key}, which no -A line before it adds`);
      if (rule.tunnel)
        diagnostics.push({
          severity: 'warning',
          file,
          line,
          message: `tunnel options "${rule.tunnel}" cannot be expressed in a site spec (IPIP is assumed); ignored`,
        });
      const d = op.dest;
      owner.realServers.push({
        address: d.address,
        port: d.port,
        weight: d.weight,
        forwarding: d.forwarding,
        ...(d.upperThreshold ? { upperThreshold: d.upperThreshold } : {}),
        ...(d.lowerThreshold ? { lowerThreshold: d.lowerThreshold } : {}),
      });
    } catch (err) {
      if (!(err instanceof IpvsadmSyntaxError)) throw err;
      diagnostics.push({ severity: 'error', file, line, message: err.message });
    }
  });
  if (!opts.address)
    diagnostics.push({ severity: 'error', file, line: 0, message: `ipvsadm rules do not say the director's address: pass --address IP (and --node NAME)` });
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  // One forwarding method for all real servers of a service → the service's.
  const svcs = [...services.values()].map((svc) => {
    const fwd = new Set(svc.realServers.map((r) => r.forwarding));
    if (fwd.size === 1) {
      svc.forwarding = svc.realServers[0].forwarding;
      for (const r of svc.realServers) delete r.forwarding;
    }
    return svc;
  });
  const site: Site = {
    apiVersion: 'lvsfleet/v1',
    kind: 'Site',
    metadata: { name: opts.site },
    spec: {
      nodes: [{ name: opts.node, role: 'director', address: opts.address!, ...(opts.interface ? { interface: opts.interface } : {}) }],
      ...(svcs.length ? { services: svcs } : {}),
    },
  };
  const checked = validateSite(site);
  if (!checked.ok) {
    for (const i of checked.issues) diagnostics.push({ severity: 'error', file, line: 0, message: `the imported spec is invalid: ${i.path}: ${i.message}` });
    return { diagnostics };
  }
  return { site: checked.site, diagnostics };
}
