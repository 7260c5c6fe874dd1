import type { NodeConfig, ResolvedInstance, ResolvedService } from '../config/node-config.ts';
import { directorOut, isActive, type Override } from './override.ts';

/**
 * Layers a site's overrides on one node's compiled config (pure). Only overrides active at `now`
 * (ms since the epoch, the agent's clock) count, so with none active the answer is the config
 * itself: reverting is exactly the revision's config.
 *
 * What each kind does on this node:
 * - `drain-realserver`: the matching real servers (the service, or every service; the port, or
 *   every port) at weight 0 and inhibited: no new connections, established ones finish, also
 *   when the drain takes the service below quorum.
 * - `disable-service`: every real server of the service at weight 0 and inhibited; the service
 *   falls below quorum, so the IPVS desired state puts its sorry server in (keepalived
 *   sorry_server) when it has one; one without is quiesced (every server at weight 0).
 * - `drain-director` / `maintenance-director` of this node: each of its instances at priority 1
 *   and `maintenance` (the state machine hands MASTER over once the peer is ready and stays
 *   BACKUP). Of a peer: this node's instances shared with it preempt, without delay, so they take
 *   over from a master advertising priority 1.
 * - `failover` of an instance to a node: that node at priority 254 (an address owner keeps 255)
 *   with preempt and no delay, every other member at 1. The target is marked `failoverTarget`: it
 *   takes over from the lower master it hears after Skew_Time, so the move takes one advert
 *   interval + skew instead of the Master_Down_Interval a plain preemption waits.
 *
 * Precedence when overrides conflict (order in the list never matters):
 * 1. A director out of VRRP (drain or maintenance) beats a failover to it: that failover is
 *    ignored everywhere, so nobody lowers its priority for a node that will not take over.
 * 2. Two failovers of one instance: the newest (`createdAt`, then `id`) wins.
 * 3. Weight overrides only ever set weight 0, so any combination gives the same table.
 */
export function layer(config: NodeConfig, overrides: readonly Override[], now: number): NodeConfig {
  const active = overrides.filter((o) => isActive(o, now));
  if (!active.length) return config;
  const out = new Set(active.map(directorOut).filter((n): n is string => n !== null));
  const failovers = new Map<string, Extract<Override, { kind: 'failover' }>>();
  for (const o of active) {
    if (o.kind !== 'failover' || out.has(o.node)) continue;
    const had = failovers.get(o.instance);
    if (!had || newer(o, had)) failovers.set(o.instance, o);
  }
  const me = config.node.name;
  const services = config.services.map((s) => layerService(s, active));
  const instances = config.vrrp.instances.map((i) => layerInstance(i, me, out, failovers.get(i.name)));
  return { ...config, services, vrrp: { ...config.vrrp, instances } };
}

const newer = (a: Override, b: Override) => a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id);

function layerService(s: ResolvedService, active: readonly Override[]): ResolvedService {
  const off = active.some((o) => o.kind === 'disable-service' && o.service === s.name);
  const drained = (rs: ResolvedService['realServers'][number]) =>
    off ||
    active.some(
      (o) =>
        o.kind === 'drain-realserver' && (o.service === null || o.service === s.name) && o.address === rs.address && (o.port === null || o.port === rs.port),
    );
  if (!s.realServers.some((rs) => drained(rs) && (rs.weight !== 0 || !rs.inhibitOnFailure))) return s;
  // Inhibited as well: when the drain takes the service below quorum, the desired table keeps
  // inhibited servers at weight 0 instead of deleting them, so their established connections
  // finish (a delete would cut them).
  return { ...s, realServers: s.realServers.map((rs) => (drained(rs) ? { ...rs, weight: 0, inhibitOnFailure: true } : rs)) };
}

function layerInstance(
  i: ResolvedInstance,
  me: string,
  out: ReadonlySet<string>,
  failover: Extract<Override, { kind: 'failover' }> | undefined,
): ResolvedInstance {
  let r = i;
  // Peers (and their listed priorities) stay as compiled: they are the instance's identity, and
  // changing them would restart it.
  if (failover)
    r =
      failover.node === me ? { ...r, priority: r.priority === 255 ? 255 : 254, preempt: true, preemptDelayMs: 0, failoverTarget: true } : { ...r, priority: 1 };
  if (out.has(me)) return { ...r, priority: 1, maintenance: true };
  if (r.peers.some((p) => p.node !== null && out.has(p.node))) r = { ...r, preempt: true, preemptDelayMs: 0 };
  return r;
}

/** Whether `o` changes anything on the node `config` is for: the cloud sends a node only these. */
export function concerns(config: NodeConfig, o: Override): boolean {
  const me = config.node.name;
  switch (o.kind) {
    case 'drain-realserver':
      return config.services.some((s) => (o.service === null || o.service === s.name) && s.realServers.some((rs) => rs.address === o.address));
    case 'disable-service':
      return config.services.some((s) => s.name === o.service);
    case 'drain-director':
    case 'maintenance-director':
      return config.vrrp.instances.length > 0 && (o.node === me || config.vrrp.instances.some((i) => i.peers.some((p) => p.node === o.node)));
    case 'failover':
      return config.vrrp.instances.some((i) => i.name === o.instance);
  }
}
