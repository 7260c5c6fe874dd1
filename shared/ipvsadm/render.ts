/**
 * Site spec → the `ipvsadm-restore` input of one director: its services and real servers as
 * `ipvsadm -Sn` would print them. Health checks, sorry servers and quorum are keepalived's
 * (or the agent's) job, not IPVS's: they are reported in `warnings`, not written.
 */
import { DEFAULTS } from '../site/defaults.ts';
import type { Site } from '../site/site.ts';
import { durationMs } from '../util/duration.ts';
import { formatRule, type Rule, type VirtualKey } from './codec.ts';

export class IpvsadmRenderError extends Error {
  readonly code = 'RENDER_NODE';
}

/** The rules for `nodeName`, in restore order (each service before its real servers). */
export function siteRules(site: Site, nodeName: string): { rules: Rule[]; warnings: string[] } {
  const nodes = new Map(site.spec.nodes.map((n) => [n.name, n]));
  const node = nodes.get(nodeName);
  if (!node) throw new IpvsadmRenderError(`no node named "${nodeName}" in site ${site.metadata.name}`);
  if (node.role !== 'director') throw new IpvsadmRenderError(`node "${nodeName}" is a ${node.role}; only directors have IPVS rules`);
  const rules: Rule[] = [];
  const warnings: string[] = [];
  for (const svc of site.spec.services ?? []) {
    if (svc.directors && !svc.directors.includes(nodeName)) continue;
    const key: VirtualKey =
      svc.fwmark !== undefined ? { fwmark: svc.fwmark } : { protocol: svc.protocol ?? DEFAULTS.service.protocol, address: svc.vip ?? '', port: svc.port ?? 0 };
    rules.push({
      kind: 'service',
      key,
      scheduler: svc.scheduler ?? DEFAULTS.service.scheduler,
      ...(svc.schedulerFlags?.length ? { schedFlags: svc.schedulerFlags } : {}),
      ...(svc.persistence
        ? { persistent: durationMs(svc.persistence.timeout ?? '360s') / 1000, ...(svc.persistence.netmask ? { netmask: svc.persistence.netmask } : {}) }
        : {}),
      ...(svc.onePacket ? { onePacket: true } : {}),
    });
    const left = [svc.healthCheck && 'healthCheck', svc.sorryServer && 'sorryServer', svc.quorum !== undefined && 'quorum'].filter(Boolean);
    if (left.length || svc.realServers.some((r) => r.healthCheck))
      warnings.push(
        `service ${svc.name}: ${[...left, ...(svc.realServers.some((r) => r.healthCheck) ? ['real server checks'] : [])].join(', ')} are not IPVS rules; left out`,
      );
    for (const rs of svc.realServers) {
      const fwd = rs.forwarding ?? svc.forwarding ?? DEFAULTS.service.forwarding;
      rules.push({
        kind: 'dest',
        key,
        address: rs.address ?? nodes.get(rs.node!)!.address,
        port: rs.port ?? svc.port ?? 0,
        forwarding: fwd,
        weight: rs.weight ?? DEFAULTS.realServerWeight,
        ...(rs.upperThreshold ? { upperThreshold: rs.upperThreshold } : {}),
        ...(rs.lowerThreshold ? { lowerThreshold: rs.lowerThreshold } : {}),
      });
    }
  }
  return { rules, warnings };
}

/** The `ipvsadm-restore` text for `nodeName`. */
export function renderIpvsadm(site: Site, nodeName: string): { text: string; warnings: string[] } {
  const { rules, warnings } = siteRules(site, nodeName);
  return { text: rules.map((r) => `${formatRule(r)}\n`).join(''), warnings };
}
