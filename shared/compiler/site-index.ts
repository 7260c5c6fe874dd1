import { bfdEnds, type BfdEnd } from '../site/bfd.ts';
import type { Service } from '../site/service.ts';
import type { Node, Site } from '../site/site.ts';
import type { VrrpScript } from '../site/vrrp.ts';
import { splitCidr } from '../util/ip.ts';

type RealServer = Service['realServers'][number];

/**
 * The parts of a site every node's compile reads, built once per site so that compiling all n
 * nodes costs O(n + size of the spec) instead of each node rescanning every node and every real
 * server. Read-only: compileNode() copies what it puts into a config.
 */
export interface SiteIndex {
  site: Site;
  nodes: Map<string, Node>;
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
   * listed without a name), in service order then real-server order.
   */
  realServersOf: Map<string, { svc: Service; rs: RealServer }[]>;
}

export function indexSite(site: Site): SiteIndex {
  const { spec } = site;
  const nodes = new Map(spec.nodes.map((n) => [n.name, n]));
  const groupOf = new Map<string, string>();
  for (const g of spec.syncGroups ?? []) for (const i of g.instances) groupOf.set(i, g.name);
  const bfdByNode = new Map<string, BfdEnd[]>();
  for (const e of bfdEnds(spec)) bfdByNode.set(e.node, [...(bfdByNode.get(e.node) ?? []), e]);
  // More than one node may share an address; a real server listed by address is each of them.
  const namesAt = new Map<string, string[]>();
  for (const n of spec.nodes) namesAt.set(n.address, [...(namesAt.get(n.address) ?? []), n.name]);
  const realServersOf = new Map<string, { svc: Service; rs: RealServer }[]>();
  const add = (node: string, svc: Service, rs: RealServer) => {
    const list = realServersOf.get(node);
    if (list) list.push({ svc, rs });
    else realServersOf.set(node, [{ svc, rs }]);
  };
  for (const svc of spec.services ?? []) {
    if (svc.vip === undefined) continue; // fwmark services: the operator marks packets; no VIP to hold
    for (const rs of svc.realServers) {
      if (rs.node !== undefined) add(rs.node, svc, rs);
      else if (rs.address !== undefined) for (const name of namesAt.get(rs.address) ?? []) add(name, svc, rs);
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
