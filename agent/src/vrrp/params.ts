import type { NodeConfig, ResolvedInstance } from '#shared/config/node-config.ts';
import { VRRP_GROUP, VRRP_GROUP6 } from './codec.ts';
import type { InstanceParams } from './types.ts';

export type VrrpConfig = NodeConfig['vrrp'];

/** The state machine's view of a compiled instance. */
export function instanceParams(i: ResolvedInstance, cfg: VrrpConfig): InstanceParams {
  return {
    name: i.name,
    vrid: i.vrid,
    version: i.version,
    priority: i.priority,
    primaryAddress: i.sourceAddress,
    advertIntervalMs: i.advertIntervalMs,
    initialState: i.initialState,
    preempt: i.preempt,
    preemptDelayMs: i.preemptDelayMs,
    garp: {
      masterDelayMs: i.garp.masterDelayMs,
      masterRepeat: i.garp.masterRepeat,
      masterRefreshMs: i.garp.masterRefreshMs,
      masterRefreshRepeat: i.garp.masterRefreshRepeat,
    },
    connectionSync: cfg.connectionSync?.instance === i.name,
    ...(i.maintenance ? { maintenance: true } : {}),
    ...(i.failoverTarget ? { failoverTarget: true } : {}),
  };
}

/**
 * Where an instance's adverts go: its unicast peers (keepalived unicast_peer), or the group of its
 * family, 224.0.0.18 or ff02::12 (RFC 5798 §5.1.1.2, §5.1.2.2).
 */
export function advertDestinations(i: ResolvedInstance): string[] {
  if (i.unicast) return i.peers.map((p) => p.address);
  return [i.family === 6 ? VRRP_GROUP6 : VRRP_GROUP];
}
