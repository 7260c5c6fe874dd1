import type { NodeConfig } from '#shared/config/node-config.ts';
import type { AgentHealth, NodeStatus, OverrideStatus } from '#shared/wire/status.ts';
import { healthKey } from '#shared/ipvs/desired.ts';
import type { IpvsResult } from '../ipvs/reconciler.ts';
import type { RoleResult } from '../realserver/role.ts';

export interface StatusInput {
  nodeId: string;
  config: NodeConfig | null;
  appliedRevision: number | null;
  pendingRevision: number | null;
  agentVersion?: string;
  vrrp: NonNullable<NodeStatus['vrrp']> | null;
  bfd: { name: string; peer: string; state: NonNullable<NodeStatus['bfd']>[number]['state']; forMs: number; detectionTimeMs: number }[] | null;
  health: Map<string, { up: boolean; weight: number | null; detail: string; checked: boolean }> | null;
  quorumUp: (service: string) => boolean;
  ipvs: IpvsResult | null;
  role: RoleResult | null;
  errors: string[];
  /** The helpers' supervision (shared/wire/status.ts `health`); absent where the host has none (dry-run). */
  agentHealth?: AgentHealth | null;
  /** Active overrides and how far each got here; null when there are none. */
  overrides?: OverrideStatus[] | null;
  /** IPVS active connections of a configured real server on this director. */
  activeConnections?: (svc: NodeConfig['services'][number], rs: NodeConfig['services'][number]['realServers'][number]) => number;
}

/** The retained status (shared/wire/status.ts) from the engine's parts. Pure. */
export function buildStatus(i: StatusInput, at = new Date()): NodeStatus {
  const c = i.config;
  const s: NodeStatus = {
    nodeId: i.nodeId,
    online: true,
    at: at.toISOString(),
    appliedRevision: i.appliedRevision,
    pendingRevision: i.pendingRevision,
    errors: i.errors,
  };
  if (i.agentVersion) s.agentVersion = i.agentVersion;
  if (i.agentHealth) s.health = i.agentHealth;
  if (i.overrides?.length) s.overrides = i.overrides;
  if (!c) return s;
  s.site = c.site;
  s.node = c.node.name;
  if (c.node.role === 'director') {
    s.vrrp = i.vrrp ?? [];
    if (c.bfd?.length) {
      const live = new Map((i.bfd ?? []).map((b) => [b.name, b]));
      s.bfd = c.bfd.map((b) => {
        const l = live.get(b.name);
        return l
          ? { name: b.name, peer: b.peer, state: l.state, since: new Date(at.getTime() - l.forMs).toISOString(), detectionTimeMs: l.detectionTimeMs }
          : { name: b.name, peer: b.peer, state: 'Down' };
      });
    }
    s.services = c.services.map((svc) => ({
      name: svc.name,
      quorum: i.quorumUp(svc.name),
      realServers: svc.realServers.map((rs) => {
        const h = i.health?.get(healthKey(svc.name, rs)) ?? {
          up: true,
          weight: null,
          detail: rs.healthCheck ? 'not checked yet' : 'no health check',
          checked: false,
        };
        const weight = h.up ? (h.weight ?? rs.weight) : 0;
        // Two literals, not a spread of one into the other: V8's generic path, per real server.
        return i.activeConnections
          ? { address: rs.address, port: rs.port, healthy: h.up, weight, detail: h.detail, checked: h.checked, activeConnections: i.activeConnections(svc, rs) }
          : { address: rs.address, port: rs.port, healthy: h.up, weight, detail: h.detail, checked: h.checked };
      }),
    }));
    // A director with no services (VRRP only, as in the seeds' nginx setup) needs nothing from
    // IPVS: a kernel without ip_vs is not a failure there, so no ipvs entry is reported.
    const idle = c.services.length === 0 && (!i.ipvs || i.ipvs.code === 'IPVS_UNAVAILABLE');
    if (!idle) s.ipvs = i.ipvs ? (i.ipvs.ok ? { ok: true } : { ok: false, error: i.ipvs.error }) : { ok: false, error: 'not reconciled yet' };
  }
  if (i.role) s.realServer = { ok: i.role.ok, drift: i.role.drift, warnings: i.role.warnings };
  return s;
}

/**
 * The status file's text from `json`, the status's JSON without its time (what the engine compares
 * to tell a change), and the time: the same members as JSON.stringify of the whole status, the
 * time first, without serialising the status again.
 */
export function statusFileText(at: string | undefined, json: string): string {
  if (at === undefined) return json;
  return json === '{}' ? `{"at":${JSON.stringify(at)}}` : `{"at":${JSON.stringify(at)},${json.slice(1)}`;
}
