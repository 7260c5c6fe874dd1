import { uniqueNames, type SpecIssue } from './issues.ts';
import type { Site } from './site.ts';
import { checkBfd } from './semantic-bfd.ts';
import { checkServices } from './semantic-services.ts';
import { checkVrrp } from './semantic-vrrp.ts';

/**
 * Rules zod cannot express: references, uniqueness, VRRP legality (semantic-vrrp.ts), BFD
 * (semantic-bfd.ts) and IPVS legality (semantic-services.ts), reported in that order.
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

  checkVrrp(site, nodes, out);
  checkBfd(site, nodes, out);
  checkServices(site, nodes, out);
  return out;
}
