import { bfdEnds, type BfdEnd } from '../site/bfd.ts';
import { byName } from '../site/by-name.ts';
import type { Service } from '../site/service.ts';
import type { Node, Site } from '../site/site.ts';
import type { VrrpScript } from '../site/vrrp.ts';
import { familyOf, realServerAddress, serviceVips } from '../site/family.ts';
import { splitCidr } from '../util/ip.ts';

type RealServer = Service['realServers'][number];

/**
 * The parts of a site every node's compile reads, built once per site so that compiling all n
 * nodes costs O(n + size of the spec) instead of each node rescanning every node and every real
 * server. Read-only: compileNode() copies what it puts into a config.
 */
export interface SiteIndex {
  site: Site;
  nodes: ReadonlyMap<string, Node>;
  /** VRRP instance name → its sync group's name. */
  groupOf: Map<string, string>;
  scripts: Map<string, VrrpScript>;
  /** Every BFD session end of the site, by the node that holds it (spec order). */
  bfdByNode: Map<string, BfdEnd[]>;
  directors: Node[];
  /** Every VRRP instance's VIP split into address and prefix (instance order, then VIP order). */
  vrrpVips: { address: string; prefix: number }[];
  /**
   * Node name → the VIP services' real servers that are this node (by name, or by address when
   * listed without a name), in service order, then VIP order (IPv4 first), then real-server order,
   * with the VIP each one serves.
   */
  realServersOf: Map<string, { svc: Service; rs: RealServer; vip: string }[]>;
}

export function indexSite(site: Site): SiteIndex {
  const { spec } = site;
  const nodes = byName(spec.nodes);
  const groupOf = new Map<string, string>();
  for (const g of spec.syncGroups ?? []) for (const i of g.instances) groupOf.set(i, g.name);
  const bfdByNode = new Map<string, BfdEnd[]>();
  for (const e of bfdEnds(spec)) bfdByNode.set(e.node, [...(bfdByNode.get(e.node) ?? []), e]);
  // More than one node may share an address; a real server listed by address is each of them.
  const namesAt = new Map<string, string[]>();
  for (const n of spec.nodes)
    for (const a of n.address6 === undefined ? [n.address] : [n.address, n.address6]) namesAt.set(a, [...(namesAt.get(a) ?? []), n.name]);
  const realServersOf = new Map<string, { svc: Service; rs: RealServer; vip: string }[]>();
  const add = (node: string, svc: Service, rs: RealServer, vip: string) => {
    const list = realServersOf.get(node);
    if (list) list.push({ svc, rs, vip });
    else realServersOf.set(node, [{ svc, rs, vip }]);
  };
  for (const svc of spec.services ?? []) {
    // fwmark services have no VIP: the operator marks packets; no VIP to hold
    const vips = [...serviceVips(svc)].sort((a, b) => familyOf(a) - familyOf(b));
    for (const vip of vips)
      for (const rs of svc.realServers) {
        const address = realServerAddress(rs, nodes, familyOf(vip), vips.length > 1);
        if (address === null) continue;
        if (rs.node !== undefined) add(rs.node, svc, rs, vip);
        else for (const name of namesAt.get(address) ?? []) add(name, svc, rs, vip);
      }
  }
  return {
    site,
    nodes,
    groupOf,
    scripts: new Map((spec.vrrpScripts ?? []).map((s) => [s.name, s])),
    bfdByNode,
    directors: spec.nodes.filter((n) => n.role === 'director'),
    vrrpVips: (spec.vrrp ?? []).flatMap((i) => i.vips.map((v) => splitCidr(typeof v === 'string' ? v : v.address))),
    realServersOf,
  };
}
