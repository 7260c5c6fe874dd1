import type { NodeConfig } from '#shared/config/node-config.ts';
import type { Override } from '#shared/overrides/override.ts';
import type { NodeStatus, OverrideStatus } from '#shared/wire/status.ts';

export interface OverrideStatusInput {
  /** Overrides active now, as the document carried them. */
  active: readonly Override[];
  /** The layered config the node runs. */
  config: NodeConfig;
  vrrp: NonNullable<NodeStatus['vrrp']> | null;
  /** Active IPVS connections of one configured real server on this director (0 when unknown). */
  conns: (service: NodeConfig['services'][number], rs: NodeConfig['services'][number]['realServers'][number]) => number;
  /** When this agent first layered each override (its own clock, ms). */
  since: ReadonlyMap<string, number>;
  now: number;
  /** A drain reports `drained` after this long even with connections left (they may be idle for ever), unless the override carries its own `drainTimeoutMs`. */
  drainTimeoutMs: number;
}

/**
 * How far each active override got on this node (pure): a drain is `draining` while its real
 * servers still hold connections here and `drained` at 0 or after the timeout; a director
 * override is `handing-over` until VRRP sits where it wants it.
 */
export function overrideStatus(i: OverrideStatusInput): OverrideStatus[] {
  const me = i.config.node.name;
  const stateOf = (instance: string) => i.vrrp?.find((v) => v.instance === instance)?.state ?? null;
  return i.active.map((o) => {
    const base = { id: o.id, kind: o.kind, until: o.until };
    switch (o.kind) {
      case 'drain-realserver':
      case 'disable-service': {
        let conns = 0;
        for (const s of i.config.services) {
          if (o.kind === 'disable-service' ? s.name !== o.service : o.service !== null && o.service !== s.name) continue;
          for (const rs of s.realServers)
            if (o.kind === 'disable-service' || (rs.address === o.address && (o.port === null || o.port === rs.port))) conns += i.conns(s, rs);
        }
        const timedOut = i.now - (i.since.get(o.id) ?? i.now) >= (o.drainTimeoutMs ?? i.drainTimeoutMs);
        return { ...base, state: conns === 0 || timedOut ? 'drained' : 'draining', activeConnections: conns };
      }
      case 'drain-director':
      case 'maintenance-director': {
        if (o.node !== me) return { ...base, state: 'applied' };
        const master = i.config.vrrp.instances.some((inst) => stateOf(inst.name) === 'MASTER');
        return { ...base, state: master ? 'handing-over' : 'applied' };
      }
      case 'failover': {
        const s = stateOf(o.instance);
        const there = o.node === me ? s === 'MASTER' : s !== 'MASTER';
        return { ...base, state: there ? 'applied' : 'handing-over' };
      }
    }
  });
}
