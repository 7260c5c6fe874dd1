/**
 * `export ipvsadm`: the `ipvsadm -R` input of one director, which is exactly the table its
 * agent programs (desiredIpvs of the node's compiled config, rendered by the codec the agent
 * pipes to `ipvsadm -R`) with every real server up and quorum met. Health checks, sorry servers
 * and quorum act at run time, not in the rules: they are reported in `warnings`.
 */
import { compileNode } from '../compiler/compile.ts';
import type { Site } from '../site/site.ts';
import { renderSave } from './codec.ts';
import { steadyIpvs } from './desired.ts';

export class IpvsadmExportError extends Error {
  readonly code = 'RENDER_NODE';
}

export function exportIpvsadm(site: Site, nodeName: string): { text: string; warnings: string[] } {
  const node = site.spec.nodes.find((n) => n.name === nodeName);
  if (!node) throw new IpvsadmExportError(`no node named "${nodeName}" in site ${site.metadata.name}`);
  if (node.role !== 'director') throw new IpvsadmExportError(`node "${nodeName}" is a ${node.role}; only directors have IPVS rules`);
  const warnings: string[] = [];
  for (const svc of site.spec.services ?? []) {
    if (svc.directors && !svc.directors.includes(nodeName)) continue;
    const runtime = [
      svc.healthCheck && 'healthCheck',
      svc.realServers.some((r) => r.healthCheck) && 'real server checks',
      svc.sorryServer && 'sorryServer',
      svc.quorum !== undefined && 'quorum',
    ].filter(Boolean);
    if (runtime.length) warnings.push(`service ${svc.name}: ${runtime.join(', ')} act at run time, not in IPVS rules; shown with every real server up`);
  }
  return { text: renderSave(steadyIpvs(compileNode(site, nodeName).services)), warnings };
}
