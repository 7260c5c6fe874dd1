import type { Site } from '#shared/site/site.ts';
import { nodeIdOf } from '#shared/wire/topics.ts';

/**
 * A made-up DR site of `n` nodes for the publish benchmark: two directors sharing one VIP (VRRP)
 * and n−2 real servers spread over services of at most 250 real servers each. `rs1Weight` changes
 * one real server's weight (the one-real-server change); `checkWarmup` spreads the first health
 * checks over that time (bench:agent-apply: a director's probes do not start while it is timed). Addresses are
 * documentation/made-up ranges; nothing is ever sent to them.
 */
export function bigSiteSpec(name: string, n: number, opts: { vipBase?: number; rs1Weight?: number; checkWarmup?: string } = {}): unknown {
  const realServers = Array.from({ length: n - 2 }, (_, i) => ({
    name: `rs${i + 1}`,
    role: 'realserver',
    address: `10.99.${Math.floor(i / 250) + 1}.${(i % 250) + 2}`,
  }));
  const services = [];
  for (let s = 0; s * 250 < realServers.length; s++) {
    const members = realServers.slice(s * 250, (s + 1) * 250);
    services.push({
      name: `web${s + 1}`,
      vip: `10.99.0.${s + (opts.vipBase ?? 10)}`,
      port: 80,
      protocol: 'tcp',
      scheduler: 'wlc',
      forwarding: 'dr',
      healthCheck: { type: 'tcp', interval: '5s', timeout: '2s', ...(opts.checkWarmup ? { warmup: opts.checkWarmup } : {}) },
      realServers: members.map((m) => ({ node: m.name, port: 80, weight: m.name === 'rs1' ? (opts.rs1Weight ?? 1) : 1 })),
    });
  }
  return {
    apiVersion: 'lvsfleet/v1',
    kind: 'Site',
    metadata: { name },
    spec: {
      nodes: [
        { name: 'dr1', role: 'director', address: '10.99.0.2', interface: 'eth0' },
        { name: 'dr2', role: 'director', address: '10.99.0.3', interface: 'eth0' },
        ...realServers,
      ],
      vrrp: [
        {
          name: 'VI_1',
          vrid: 51,
          version: 2,
          advertInterval: '1s',
          vips: services.map((s) => `${s.vip}/32`),
          members: [
            { node: 'dr1', priority: 100, initialState: 'MASTER' },
            { node: 'dr2', priority: 90 },
          ],
        },
      ],
      services,
    },
  } satisfies Record<string, unknown> as unknown as Site;
}

/**
 * A report of `node` of a `bigSiteSpec` site as its agent sends it, stamped `at`: a director lists
 * every real server it checks (all healthy), a real server says its setup is in place.
 */
export function bigSiteStatus(site: string, spec: unknown, node: { name: string; role: string }, at = new Date().toISOString()): string {
  const base = { nodeId: nodeIdOf(site, node.name), online: true, at, appliedRevision: 1 };
  if (node.role !== 'director') return JSON.stringify({ ...base, realServer: { ok: true } });
  const s = spec as { spec: { nodes: { name: string; address: string }[]; services: { name: string; realServers: { node: string; port: number }[] }[] } };
  const address = new Map(s.spec.nodes.map((n) => [n.name, n.address]));
  return JSON.stringify({
    ...base,
    site,
    node: node.name,
    pendingRevision: null,
    errors: [],
    vrrp: [{ instance: 'VI_1', vrid: 51, state: node.name === 'dr1' ? 'MASTER' : 'BACKUP', priority: 100, effectivePriority: 100 }],
    services: s.spec.services.map((svc) => ({
      name: svc.name,
      quorum: true,
      realServers: svc.realServers.map((rs) => ({ address: address.get(rs.node)!, port: rs.port, healthy: true, weight: 1, detail: 'tcp ok' })),
    })),
    ipvs: { ok: true },
  });
}
