import type { NodeConfig, RealServerVip, ResolvedBfd, ResolvedInstance, ResolvedService } from '../config/node-config.ts';
import type { BfdEnd } from '../site/bfd.ts';
import { DEFAULTS, memberInterface } from '../site/defaults.ts';
import type { Node, Site } from '../site/site.ts';
import type { VrrpInstance } from '../site/vrrp.ts';
import { instanceFamily, instanceVersion, nodeAddress } from '../site/family.ts';
import { durationMs } from '../util/duration.ts';
import { keyOrdered } from './key-order.ts';
import { realServerSysctls, realServerVips } from './resolve-realserver.ts';
import { resolveServices } from './resolve-service.ts';
import { AFRESH, CompileMemo, type CompileHooks } from './compile-memo.ts';
import { resolveNotify, resolveVip } from './resolve-vrrp.ts';
import { indexSite, type SiteIndex } from './site-index.ts';

// Every object below is written with its keys in code-unit order (./key-order.ts says why).
const ms = (d: string | undefined, dflt: number): number => (d === undefined ? dflt : durationMs(d));

function resolveInstance(index: SiteIndex, inst: VrrpInstance, self: Node, myBfd: BfdEnd[]): ResolvedInstance {
  const { nodes, scripts } = index;
  const me = inst.members.find((m) => m.node === self.name)!;
  const iface = memberInterface(inst, me, self);
  const version = instanceVersion(inst);
  const family = instanceFamily(inst);
  // Validation made sure every member has an address of the instance's family.
  const at = (m: VrrpInstance['members'][number], node: Node) => m.sourceAddress ?? nodeAddress(node, family)!;
  const peers = inst.members
    .filter((m) => m.node !== self.name)
    .map((m) => ({ address: at(m, nodes.get(m.node)!), node: m.node as string | null, priority: m.priority as number | null }));
  for (const address of inst.unicastPeers ?? []) peers.push({ address, node: null, priority: null });
  const g = inst.garp ?? {};
  return {
    advertIntervalMs: ms(inst.advertInterval, DEFAULTS.advertIntervalMs),
    auth: inst.auth && inst.auth.type === 'PASS' ? { password: inst.auth.password, type: 'PASS' } : null,
    dontTrackPrimary: inst.dontTrackPrimary ?? false,
    excludedVips: (inst.excludedVips ?? []).map((v) => resolveVip(v, iface)),
    ...(family === 6 ? { family: 6 as const } : {}),
    garp: {
      intervalMs: ms(g.interval, DEFAULTS.garp.intervalMs),
      masterDelayMs: ms(g.masterDelay, DEFAULTS.garp.masterDelayMs),
      masterRefreshMs: ms(g.masterRefresh, DEFAULTS.garp.masterRefreshMs),
      masterRefreshRepeat: g.masterRefreshRepeat ?? DEFAULTS.garp.masterRefreshRepeat,
      masterRepeat: g.masterRepeat ?? DEFAULTS.garp.masterRepeat,
    },
    // keepalived: priority 255 always starts MASTER; otherwise the configured `state`, default BACKUP.
    initialState: me.priority === 255 ? 'MASTER' : (me.initialState ?? 'BACKUP'),
    interface: iface,
    name: inst.name,
    notify: resolveNotify(inst.notify),
    peerBfd: peers.length === 1 && peers[0].node !== null ? (myBfd.find((e) => e.peerNode === peers[0].node)?.session ?? null) : null,
    peers,
    preempt: inst.preempt ?? DEFAULTS.preempt,
    preemptDelayMs: ms(inst.preemptDelay, 0),
    priority: me.priority,
    sourceAddress: at(me, self),
    syncGroup: index.groupOf.get(inst.name) ?? null,
    trackBfd: (inst.trackBfd ?? []).filter((t) => myBfd.some((e) => e.session === t.name)).map((t) => ({ name: t.name, weight: t.weight ?? 0 })),
    trackInterfaces: (inst.trackInterfaces ?? []).map((t) => ({ interface: t.interface, weight: t.weight ?? 0 })),
    trackScripts: (inst.trackScripts ?? []).map((t) => ({
      script: t.script,
      weight: t.weight ?? scripts.get(t.script)?.weight ?? DEFAULTS.script.weight,
    })),
    unicast: inst.unicast ?? false,
    version,
    vips: inst.vips.map((v) => resolveVip(v, iface)),
    vrid: inst.vrid,
  };
}

/** This node's BFD sessions: spec.bfd's timers or keepalived's defaults; a default pair session uses lvsfleet's pair timers. */
function resolveBfd(site: Site, self: Node, ends: BfdEnd[]): ResolvedBfd[] {
  return ends.map((e) => {
    const s = e.index === null ? undefined : site.spec.bfd?.[e.index];
    const d = s ? DEFAULTS.bfd : DEFAULTS.pairBfd;
    return {
      local: self.address,
      minRxMs: ms(s?.minRx, d.minRxMs),
      minTxMs: ms(s?.minTx, d.minTxMs),
      multiplier: s?.multiplier ?? d.multiplier,
      name: e.session,
      peer: e.peer,
      peerNode: e.peerNode,
    };
  });
}

/** Compiles one node's share of a validated site. Pure: same input → same output. */
export function compileNode(site: Site, nodeName: string): NodeConfig {
  return compileIndexed(indexSite(site), nodeName, AFRESH);
}

/**
 * A real server's config: its node, its VIPs, the site's name and allowMassDelete, and nothing
 * else. Instances, services, scripts, sync groups, BFD and forwarding sysctls are a director's, so
 * they are empty here, as in a director's config that has none. CompileMemo keys a real server's
 * config by exactly these inputs.
 */
function realServerConfig(site: Site, self: Node, vips: RealServerVip[]): NodeConfig {
  return {
    allowMassDelete: site.spec.allowMassDelete ?? false,
    apiVersion: 'lvsfleet/v1',
    bfd: [],
    kind: 'NodeConfig',
    node: nodeOf(self),
    realServer: { sysctls: realServerSysctls(vips), vips },
    services: [],
    site: site.metadata.name,
    sysctls: {},
    vrrp: { connectionSync: null, instances: [], scripts: [], syncGroups: [] },
  };
}

const nodeOf = (self: Node): NodeConfig['node'] => ({
  address: self.address,
  ...(self.address6 === undefined ? {} : { address6: self.address6 }),
  interface: self.interface ?? DEFAULTS.nodeInterface,
  name: self.name,
  role: self.role,
});

function compileIndexed(index: SiteIndex, nodeName: string, hooks: CompileHooks): NodeConfig {
  const { site } = index;
  const self = index.nodes.get(nodeName);
  if (!self) throw new RangeError(`no node named ${nodeName}`);
  if (self.role === 'realserver') {
    const vips = realServerVips(index, self);
    return hooks.realServer(site, self, vips, () => realServerConfig(site, self, vips));
  }

  // A director from here on.
  const myBfd = index.bfdByNode.get(nodeName) ?? [];
  const instances = (site.spec.vrrp ?? []).filter((i) => i.members.some((m) => m.node === nodeName)).map((i) => resolveInstance(index, i, self, myBfd));
  const myInstances = new Set(instances.map((i) => i.name));
  const usedScripts = new Set(instances.flatMap((i) => i.trackScripts.map((t) => t.script)));
  const services: ResolvedService[] = (site.spec.services ?? [])
    .filter((s) => !s.directors || s.directors.includes(nodeName))
    .flatMap((s) => hooks.service(s, index.nodes, () => resolveServices(s, index.nodes)));
  const sysctls: Record<string, string> = {};
  if (services.length) {
    // A director forwarding NAT must route; none of them should send ICMP redirects for the VIP subnet.
    const nat = services.filter((s) => s.realServers.some((r) => r.forwarding === 'nat') || s.sorryServer?.forwarding === 'nat');
    if (nat.some((s) => s.family !== 6)) sysctls['net.ipv4.ip_forward'] = '1';
    if (nat.some((s) => s.family === 6)) sysctls['net.ipv6.conf.all.forwarding'] = '1';
    sysctls['net.ipv4.conf.all.send_redirects'] = '0';
    sysctls['net.ipv4.conf.default.send_redirects'] = '0';
  }
  const cs = site.spec.connectionSync;
  const csInstance = cs && myInstances.has(cs.instance) ? instances.find((i) => i.name === cs.instance)! : null;
  return {
    allowMassDelete: site.spec.allowMassDelete ?? false,
    apiVersion: 'lvsfleet/v1',
    bfd: resolveBfd(site, self, myBfd),
    kind: 'NodeConfig',
    node: nodeOf(self),
    realServer: { sysctls: {}, vips: [] },
    services,
    site: site.metadata.name,
    sysctls: keyOrdered(sysctls),
    vrrp: {
      connectionSync:
        cs && csInstance
          ? {
              ...(cs.group === undefined ? {} : { group: cs.group }),
              instance: cs.instance,
              interface: cs.interface ?? csInstance.interface,
              ...(cs.maxlen === undefined ? {} : { maxlen: cs.maxlen }),
              syncId: cs.syncId ?? DEFAULTS.syncId,
            }
          : null,
      instances,
      scripts: (site.spec.vrrpScripts ?? [])
        .filter((s) => usedScripts.has(s.name))
        .map((s) => ({
          command: s.script,
          fall: s.fall ?? DEFAULTS.script.fall,
          intervalMs: ms(s.interval, DEFAULTS.script.intervalMs),
          name: s.name,
          rise: s.rise ?? DEFAULTS.script.rise,
          // keepalived: a script's timeout defaults to its interval.
          timeoutMs: ms(s.timeout, ms(s.interval, DEFAULTS.script.intervalMs)),
          user: s.user ?? null,
          weight: s.weight ?? DEFAULTS.script.weight,
        })),
      syncGroups: (site.spec.syncGroups ?? [])
        .filter((g) => g.instances.some((i) => myInstances.has(i)))
        .map((g) => ({ instances: g.instances.filter((i) => myInstances.has(i)), name: g.name, notify: resolveNotify(g.notify) })),
    },
  };
}

/**
 * Every node's config, keyed by node name in sorted order: one site spec → one config per node.
 * Pure as to its output's value. The directors' configs share each service's resolved objects, and
 * with the site's `memo` (./compile-memo.ts) also the last compile's, where the service is unchanged;
 * a real server whose inputs are unchanged gets its last config.
 */
export function compileSite(site: Site, memo: CompileMemo = new CompileMemo()): Map<string, NodeConfig> {
  const index = indexSite(site);
  const names = site.spec.nodes.map((n) => n.name).sort();
  return memo.round((hooks) => new Map(names.map((n) => [n, compileIndexed(index, n, hooks)])));
}
