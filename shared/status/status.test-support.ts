import { compileNode } from '../compiler/compile.ts';
import type { Site } from '../site/site.ts';
import { validateSite } from '../site/validate.ts';
import type { NodeStatus, VrrpState } from '../wire/status.ts';
import type { NodeInput } from './evaluate.ts';

/** Test clock and window: reports are received relative to T0, the staleness window is a minute. */
export const T0 = Date.parse('2026-11-30T02:00:00Z');
export const WINDOW = 60_000;

export interface SiteShape {
  name?: string;
  directors?: number;
  /** Real-server nodes; every service balances over all of them on its port. */
  realServers?: number;
  /** Services web, web2, … on 10.0.0.100, .101, …; the first `vrrpServices` of them ride on VRRP instances. */
  services?: number;
  /** Health check per service (true: tcp), default true. */
  checked?: boolean[];
  /** Per real server (rs1, rs2, …): its own tcp check, which it keeps even when its service has none. */
  ownChecks?: boolean[];
  /** false: no VRRP at all (a single director without a VIP group). */
  vrrp?: boolean;
}

/** A validated site: dr1…drN (VRRP members, dr1 the highest priority), rs1…rsM, services with VIPs on VI_1, VI_2, …. */
export function makeSite(shape: SiteShape = {}): Site {
  const d = shape.directors ?? 2;
  const m = shape.realServers ?? 3;
  const nsvc = shape.services ?? 1;
  const directors = Array.from({ length: d }, (_, i) => ({ name: `dr${i + 1}`, role: 'director', address: `10.0.1.${i + 1}`, interface: 'eth0' }));
  const realservers = Array.from({ length: m }, (_, i) => ({ name: `rs${i + 1}`, role: 'realserver', address: `10.0.2.${i + 11}` }));
  const vrrp = Array.from({ length: nsvc }, (_, i) => ({
    name: `VI_${i + 1}`,
    vrid: 51 + i,
    vips: [`10.0.0.${100 + i}/32`],
    members: directors.map((x, k) => ({ node: x.name, priority: 100 - k * 10 })),
  }));
  const services = Array.from({ length: nsvc }, (_, i) => ({
    name: i === 0 ? 'web' : `web${i + 1}`,
    vip: `10.0.0.${100 + i}`,
    port: 80,
    forwarding: 'dr',
    ...((shape.checked?.[i] ?? true) ? { healthCheck: { type: 'tcp', interval: '5s' } } : {}),
    realServers: realservers.map((r, k) => ({ node: r.name, ...(shape.ownChecks?.[k] ? { healthCheck: { type: 'tcp', interval: '2s' } } : {}) })),
  }));
  const doc = {
    apiVersion: 'lvsfleet/v1',
    kind: 'Site',
    metadata: { name: shape.name ?? 'lab' },
    spec: { nodes: [...directors, ...realservers], ...(shape.vrrp === false ? {} : { vrrp }), ...(services.length ? { services } : {}) },
  };
  const v = validateSite(doc);
  if (!v.ok) throw new Error(`test site invalid: ${JSON.stringify(v.issues)}`);
  return v.site;
}

export interface ReportShape {
  /** VRRP state per instance (the instance is left out of the report when not named); default BACKUP. */
  vrrp?: Record<string, VrrpState | { state: VrrpState; since: number }>;
  /** Real servers reported down, by node name (rs2) or address. */
  down?: string[];
  /** Services whose quorum the agent reports lost. */
  quorumLost?: string[];
  /** Leave these services (or real servers, `web/rs2`) out of the report, as before a revision is applied. */
  omit?: string[];
  applied?: number | null;
  pending?: number | null;
  errors?: string[];
  ipvsError?: string;
  roleDrift?: string[];
  /** Time the agent stamped (default: the receipt time). */
  at?: number;
}

/** A node's status document as the agent builds it, from the node's compiled config. */
export function report(site: Site, node: string, shape: ReportShape = {}, receivedAt = T0): NodeStatus {
  const c = compileNode(site, node);
  const at = shape.at ?? receivedAt;
  const s: NodeStatus = {
    nodeId: `${site.metadata.name}.${node}`,
    online: true,
    at: new Date(at).toISOString(),
    site: site.metadata.name,
    node,
    appliedRevision: shape.applied === undefined ? 1 : shape.applied,
    pendingRevision: shape.pending ?? null,
    errors: shape.errors ?? [],
  };
  if (c.node.role === 'director') {
    s.vrrp = c.vrrp.instances.flatMap((i) => {
      const v = shape.vrrp ? shape.vrrp[i.name] : 'BACKUP';
      if (v === undefined) return [];
      const { state, since } = typeof v === 'string' ? { state: v, since: at - 30_000 } : v;
      return [{ instance: i.name, vrid: i.vrid, state, priority: i.priority, effectivePriority: i.priority, since: new Date(since).toISOString() }];
    });
    const omit = new Set(shape.omit ?? []);
    const down = new Set(shape.down ?? []);
    const nodeOf = new Map(site.spec.nodes.map((n) => [n.address, n.name]));
    s.services = c.services
      .filter((svc) => !omit.has(svc.name))
      .map((svc) => ({
        name: svc.name,
        quorum: !(shape.quorumLost ?? []).includes(svc.name),
        realServers: svc.realServers
          .filter((rs) => !omit.has(`${svc.name}/${nodeOf.get(rs.address) ?? rs.address}`))
          .map((rs) => {
            const isDown = down.has(rs.address) || down.has(nodeOf.get(rs.address) ?? '');
            return {
              address: rs.address,
              port: rs.port,
              healthy: !isDown,
              weight: isDown ? 0 : rs.weight,
              detail: isDown ? 'connection refused' : rs.healthCheck ? 'tcp ok' : 'no health check',
            };
          }),
      }));
    s.ipvs = shape.ipvsError ? { ok: false, error: shape.ipvsError } : { ok: true };
  } else {
    s.realServer = shape.roleDrift ? { ok: false, drift: shape.roleDrift } : { ok: true };
  }
  return s;
}

/** Received at `at` from a connected node. */
export function fresh(status: NodeStatus, at = T0, desired: NodeInput['desired'] = null): NodeInput {
  return { status, online: true, receivedAt: at, desired };
}

/** The node's last will arrived at `willAt`; its last document is kept, as ingest keeps it. */
export function gone(status: NodeStatus, willAt: number): NodeInput {
  return { status: { ...status, online: false }, online: false, receivedAt: willAt, desired: null };
}
