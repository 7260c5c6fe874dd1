import { uniqueNames, type SpecIssue } from './issues.ts';
import type { Site } from './site.ts';
import { isLinkLocal } from '../util/ip.ts';
import { byName } from './by-name.ts';
import { familyOf } from './family.ts';
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
  const nodes = byName(spec.nodes);

  uniqueNames(spec.nodes, 'spec.nodes', 'node', out);
  // Addresses are canonical (RFC 5952 for IPv6), so one address written two ways is one address.
  const addrSeen = new Map<string, number>();
  spec.nodes.forEach((n, i) => {
    const own =
      n.address6 === undefined
        ? [['address', n.address]]
        : [
            ['address', n.address],
            ['address6', n.address6],
          ];
    for (const [field, address] of own) {
      const path = `spec.nodes[${i}].${field}`;
      const first = addrSeen.get(address);
      if (first !== undefined) out.push({ path, message: `address ${address} is already used by spec.nodes[${first}]` });
      else addrSeen.set(address, i);
      if (isLinkLocal(address))
        out.push({
          path,
          message: `${address} is link-local: a node's address is reached from other links (checks, BFD, real-server routes); use a global or unique-local address`,
        });
    }
    if (n.address6 !== undefined && familyOf(n.address) === 6)
      out.push({ path: `spec.nodes[${i}].address6`, message: 'address6 is for a node whose address is IPv4; this address is IPv6 already' });
  });

  checkVrrp(site, nodes, out);
  checkBfd(site, nodes, out);
  checkServices(site, nodes, out);
  return out;
}
