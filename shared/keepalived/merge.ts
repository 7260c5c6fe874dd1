/**
 * Several directors' keepalived.conf files → one site spec. VRRP instances are joined by
 * name (each file adds its director as a member with its priority and state); services,
 * scripts and sync groups are joined by identity and conflicts are reported as warnings
 * naming both places (the first file wins).
 */
import { instanceFamily, nodeAddress } from '../site/family.ts';
import type { Service } from '../site/service.ts';
import type { Node, Site } from '../site/site.ts';
import type { VrrpInstance } from '../site/vrrp.ts';
import { canonicalJson } from '../util/canonical-json.ts';
import type { Diagnostic } from './diagnostics.ts';
import type { FileImport } from './model.ts';
import type { Token } from './lexer.ts';
import { directorNodes, nodeAddresses, nodeNames } from './merge-nodes.ts';
import { mergeBfd } from './map-bfd.ts';

export interface MergeOptions {
  site: string;
  /** `--address NAME=IP`: director addresses keepalived.conf does not state. */
  addresses?: Record<string, string>;
  /** Make every real server a realserver node (for hosts that will run an agent). */
  realserversAsNodes?: boolean;
}

function differingKeys(a: object, b: object): string[] {
  const ka = a as Record<string, unknown>;
  const kb = b as Record<string, unknown>;
  return [...new Set([...Object.keys(ka), ...Object.keys(kb)])].filter((k) => canonicalJson(ka[k]) !== canonicalJson(kb[k])).sort();
}

function conflict(diags: Diagnostic[], at: Token, what: string, first: Token, keys: string[]): void {
  diags.push({
    severity: 'warning',
    file: at.file,
    line: at.line,
    message: `${what} differs from ${first.file}:${first.line} (${keys.join(', ')}); keeping the first`,
  });
}

/** Joins FileImports into a site; errors (missing addresses) go to `diags`. */
export function mergeFiles(files: FileImport[], opts: MergeOptions, diags: Diagnostic[], where?: Map<string, Token>): Site {
  const names = nodeNames(files, diags);
  const addresses = nodeAddresses(files, names, opts.addresses ?? {}, diags);
  const nodes: Node[] = directorNodes(files, names, addresses);
  const directorAddrs = new Set(nodes.flatMap((n) => (n.address6 ? [n.address, n.address6] : [n.address])));

  const vrrp = new Map<string, { at: Token; inst: VrrpInstance; peers: Set<string> }>();
  files.forEach((f, i) => {
    for (const x of f.instances) {
      const shared = { ...x.shared, version: x.shared.version ?? f.vrrpVersion };
      if (shared.version === undefined) delete shared.version;
      const member = {
        node: names[i],
        priority: x.priority ?? 100, // keepalived's default priority
        ...(x.interface && x.interface !== nodes[i].interface ? { interface: x.interface } : {}),
        // unicast_src_ip / mcast_src_ip other than the node's address: an instance on a second NIC.
        ...(x.unicastSrcIp && x.unicastSrcIp !== nodeAddress(nodes[i], instanceFamily(shared)) ? { sourceAddress: x.unicastSrcIp } : {}),
        ...(x.state === 'MASTER' ? { initialState: 'MASTER' as const } : {}),
      };
      const seen = vrrp.get(shared.name);
      if (!seen) {
        vrrp.set(shared.name, { at: x.at, inst: { ...shared, members: [member] }, peers: new Set(x.unicastPeers ?? []) });
        if (x.unicastPeers) vrrp.get(shared.name)!.inst.unicast = true;
        continue;
      }
      const { members, unicast: _u, ...firstShared } = seen.inst;
      const keys = differingKeys(firstShared, shared);
      if (keys.length) conflict(diags, x.at, `vrrp_instance ${shared.name}`, seen.at, keys);
      if (members.some((m) => m.node === member.node))
        diags.push({ severity: 'error', file: x.at.file, line: x.at.line, message: `vrrp_instance ${shared.name} appears twice for director ${member.node}` });
      else members.push(member);
      if (x.unicastPeers) {
        seen.inst.unicast = true;
        x.unicastPeers.forEach((p) => seen.peers.add(p));
      }
    }
  });
  for (const { at, inst } of vrrp.values()) {
    const masters = inst.members.filter((m) => m.initialState === 'MASTER').map((m) => m.node);
    if (masters.length > 1)
      diags.push({
        severity: 'warning',
        file: at.file,
        line: at.line,
        message: `vrrp_instance ${inst.name}: more than one director starts as MASTER (${masters.join(', ')}); the highest priority wins after the first adverts`,
      });
    const prios = inst.members.map((m) => m.priority);
    if (new Set(prios).size < prios.length)
      diags.push({
        severity: 'warning',
        file: at.file,
        line: at.line,
        message: `vrrp_instance ${inst.name}: directors share a priority; the higher address wins ties (RFC 5798 §6.4.3)`,
      });
  }
  const instances = [...vrrp.values()].map(({ inst, peers }) => {
    const own = new Set([...directorAddrs, ...inst.members.map((m) => m.sourceAddress).filter((a): a is string => !!a)]);
    const extra = [...peers].filter((p) => !own.has(p));
    return extra.length ? { ...inst, unicastPeers: extra } : inst;
  });

  const services = new Map<string, { at: Token; svc: Service; nodes: Set<string> }>();
  files.forEach((f, i) => {
    for (const { at, service } of f.services) {
      const key = service.fwmark !== undefined ? `fwmark ${service.fwmark}` : `${service.protocol} ${service.vip}:${service.port}`;
      const seen = services.get(key);
      if (!seen) services.set(key, { at, svc: service, nodes: new Set([names[i]]) });
      else {
        seen.nodes.add(names[i]);
        const keys = differingKeys(seen.svc, service);
        if (keys.length) conflict(diags, at, `virtual_server ${key}`, seen.at, keys);
      }
    }
  });
  const svcList = [...services.values()].map(({ svc, nodes: on }) => (on.size < files.length ? { ...svc, directors: names.filter((n) => on.has(n)) } : svc));
  // Where each instance and service came from, so spec-level errors can name a line.
  [...vrrp.values()].forEach((v, i) => where?.set(`spec.vrrp[${i}]`, v.at));
  [...services.values()].forEach((v, i) => where?.set(`spec.services[${i}]`, v.at));

  const byName = <T extends { name: string }>(lists: { at: Token; item: T }[], what: string): T[] => {
    const m = new Map<string, { at: Token; item: T }>();
    for (const e of lists) {
      const seen = m.get(e.item.name);
      if (!seen) m.set(e.item.name, e);
      else if (canonicalJson(seen.item) !== canonicalJson(e.item)) conflict(diags, e.at, `${what} ${e.item.name}`, seen.at, differingKeys(seen.item, e.item));
    }
    return [...m.values()].map((e) => e.item);
  };
  const scripts = byName(
    files.flatMap((f) => f.scripts.map((s) => ({ at: s.at, item: s.script }))),
    'vrrp_script',
  );
  const groups = byName(
    files.flatMap((f) => f.syncGroups.map((s) => ({ at: s.at, item: s.group }))),
    'vrrp_sync_group',
  );

  const annotations: Record<string, string> = {};
  for (const f of files) {
    for (const [k, v] of Object.entries(f.annotations)) {
      if (annotations[k] !== undefined && annotations[k] !== v)
        diags.push({
          severity: 'warning',
          file: f.file,
          line: 0,
          message: `global_defs ${k.split('/')[1]} differs between files; keeping "${annotations[k]}"`,
        });
      annotations[k] ??= v;
    }
  }
  const syncs = files.map((f) => f.connectionSync).filter((c): c is NonNullable<typeof c> => !!c);
  const sync = syncs[0]?.sync;
  for (const c of syncs.slice(1)) {
    const keys = differingKeys(syncs[0].sync, c.sync);
    if (keys.length) conflict(diags, c.at, 'lvs_sync_daemon', syncs[0].at, keys);
  }

  if (opts.realserversAsNodes) realserverNodes(svcList, nodes, diags, files[0]?.file ?? '');
  const spec: Site['spec'] = { nodes };
  const bfd = mergeBfd(files, nodes, instances, diags);
  if (bfd.length) spec.bfd = bfd;
  if (instances.length) spec.vrrp = instances;
  if (scripts.length) spec.vrrpScripts = scripts;
  if (groups.length) spec.syncGroups = groups;
  if (svcList.length) spec.services = svcList;
  if (sync) spec.connectionSync = sync;
  return {
    apiVersion: 'lvsfleet/v1',
    kind: 'Site',
    metadata: { name: opts.site, ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec,
  };
}

/** --realservers-as-nodes: one realserver node per real server address (`rs-10-0-0-1`). */
function realserverNodes(services: Service[], nodes: Node[], diags: Diagnostic[], file: string): void {
  const byAddr = new Map(nodes.map((n) => [n.address, n]));
  for (const svc of services) {
    for (const rs of svc.realServers) {
      if (!rs.address) continue;
      let node = byAddr.get(rs.address);
      if (!node) {
        node = { name: `rs-${rs.address.replace(/[.:]/g, '-')}`, role: 'realserver', address: rs.address };
        nodes.push(node);
        byAddr.set(rs.address, node);
      }
      if (node.role !== 'realserver') {
        diags.push({
          severity: 'warning',
          file,
          line: 0,
          message: `real server ${rs.address} is director ${node.name}; it stays an address (a node has one role)`,
        });
        continue;
      }
      rs.node = node.name;
      delete rs.address;
    }
  }
}
