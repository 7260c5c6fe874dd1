/**
 * `lvsfleet import ipvsadm FILE`: ipvsadm -S / -Sn output (e.g. /etc/sysconfig/ipvsadm) →
 * a site with one director and its services. The rules do not say the director's address,
 * so the caller must give it.
 */
import type { Diagnostic } from '../keepalived/diagnostics.ts';
import { formatDuration } from '../util/duration.ts';
import { SCHEDULERS, type Service } from '../site/service.ts';
import type { Site } from '../site/site.ts';
import { validateSite } from '../site/validate.ts';
import { IpvsadmParseError, keyString, parseRule, type ServiceRule } from './codec.ts';

export interface IpvsadmImportOptions {
  site: string;
  node: string;
  address?: string;
  interface?: string;
}

/** Parses every line; errors carry FILE:LINE. Destinations before their service are errors. */
export function importIpvsadm(text: string, file: string, opts: IpvsadmImportOptions): { site?: Site; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const services = new Map<string, { rule: ServiceRule; svc: Service }>();
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (/^(ipvsadm\s+)?(-C|--clear|-L|-l|--list|-Z|--zero|-S|--save|-R|--restore)\b/.test(trimmed)) {
      diagnostics.push({ severity: 'warning', file, line, message: `"${trimmed}" is not a rule; ignored` });
      return;
    }
    try {
      const rule = parseRule(raw);
      if (!rule) return;
      const key = keyString(rule.key);
      if (rule.kind === 'service') {
        if (services.has(key)) throw new IpvsadmParseError(`service ${key} is added twice`);
        if (!(SCHEDULERS as readonly string[]).includes(rule.scheduler)) throw new IpvsadmParseError(`unknown scheduler "${rule.scheduler}"`);
        const flags = (rule.schedFlags ?? []).filter((f) => ['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port'].includes(f));
        if (flags.length !== (rule.schedFlags ?? []).length)
          diagnostics.push({
            severity: 'warning',
            file,
            line,
            message: `scheduler flags ${rule.schedFlags!.join(',')}: only sh-/mh- flags can be expressed; others ignored`,
          });
        const svc: Service = {
          name: 'fwmark' in rule.key ? `fwmark-${rule.key.fwmark}` : `${rule.key.protocol}-${rule.key.address}-${rule.key.port}`,
          ...('fwmark' in rule.key ? { fwmark: rule.key.fwmark } : { vip: rule.key.address, port: rule.key.port, protocol: rule.key.protocol }),
          scheduler: rule.scheduler as Service['scheduler'],
          ...(flags.length ? { schedulerFlags: flags as Service['schedulerFlags'] } : {}),
          ...(rule.persistent !== undefined
            ? { persistence: { timeout: formatDuration(rule.persistent * 1000), ...(rule.netmask ? { netmask: rule.netmask } : {}) } }
            : {}),
          ...(rule.onePacket ? { onePacket: true } : {}),
          realServers: [],
        };
        if (rule.persistent === 0) throw new IpvsadmParseError('-p 0 is not a persistence timeout');
        if (rule.pe)
          diagnostics.push({ severity: 'warning', file, line, message: `persistence engine ${rule.pe} cannot be expressed in a site spec; ignored` });
        services.set(key, { rule, svc });
        return;
      }
      const owner = services.get(key);
      if (!owner) throw new IpvsadmParseError(`real server for ${key}, which no -A line before it adds`);
      if (rule.tunnel)
        diagnostics.push({
          severity: 'warning',
          file,
          line,
          message: `tunnel options "${rule.tunnel}" cannot be expressed in a site spec (IPIP is assumed); ignored`,
        });
      owner.svc.realServers.push({
        address: rule.address,
        port: rule.port,
        weight: rule.weight,
        forwarding: rule.forwarding,
        ...(rule.upperThreshold ? { upperThreshold: rule.upperThreshold } : {}),
        ...(rule.lowerThreshold ? { lowerThreshold: rule.lowerThreshold } : {}),
      });
    } catch (err) {
      if (!(err instanceof IpvsadmParseError)) throw err;
      diagnostics.push({ severity: 'error', file, line, message: err.message });
    }
  });
  if (!opts.address)
    diagnostics.push({ severity: 'error', file, line: 0, message: `ipvsadm rules do not say the director's address: pass --address IP (and --node NAME)` });
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  // One forwarding method for all real servers of a service → the service's.
  const svcs = [...services.values()].map(({ svc }) => {
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
