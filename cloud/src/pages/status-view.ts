import type { NodeStatus } from '#shared/wire/status.ts';
import type { Site } from '#shared/site/site.ts';

/** What a status page shows of one site: derived from the spec and the nodes' last reports. Pure. */
export interface SiteStatusView {
  site: string;
  revision: number;
  generatedAt: string;
  overall: 'operational' | 'degraded' | 'outage' | 'unknown';
  nodes: { name: string; role: string; online: boolean | null; appliedRevision: number | null; desiredRevision: number; stale: boolean }[];
  vrrp: { instance: string; vrid: number; masters: string[]; states: { node: string; state: string }[]; problem: 'split_brain' | 'no_master' | null }[];
  services: {
    name: string;
    endpoint: string;
    state: 'up' | 'degraded' | 'down' | 'unknown';
    healthy: number;
    total: number;
    reportedBy: string | null;
    realServers: { address: string; port: number; healthy: boolean | null }[];
  }[];
}

export interface NodeReport {
  name: string;
  role: string;
  desiredRevision: number;
  status: NodeStatus | null;
}

/** Builds the view. A director's service report counts when it is online; the VRRP master's wins. */
export function buildStatusView(site: Site, revision: number, reports: NodeReport[], now: Date): SiteStatusView {
  const byName = new Map(reports.map((r) => [r.name, r]));
  const online = (r: NodeReport | undefined) => r?.status?.online === true;

  const vrrp = (site.spec.vrrp ?? []).map((inst) => {
    const states = inst.members.map((m) => {
      const r = byName.get(m.node);
      const s = online(r) ? (r!.status!.vrrp?.find((v) => v.instance === inst.name)?.state ?? 'UNKNOWN') : 'OFFLINE';
      return { node: m.node, state: s };
    });
    const masters = states.filter((s) => s.state === 'MASTER').map((s) => s.node);
    const anyKnown = states.some((s) => s.state !== 'OFFLINE' && s.state !== 'UNKNOWN');
    const problem: 'split_brain' | 'no_master' | null = masters.length > 1 ? 'split_brain' : masters.length === 0 && anyKnown ? 'no_master' : null;
    return { instance: inst.name, vrid: inst.vrid, masters, states, problem };
  });
  const masterNodes = new Set(vrrp.flatMap((v) => v.masters));

  const services = (site.spec.services ?? []).map((svc) => {
    const endpoint = svc.fwmark !== undefined ? `fwmark ${svc.fwmark}` : `${svc.protocol ?? 'tcp'} ${svc.vip}:${svc.port}`;
    const candidates = reports
      .filter((r) => r.role === 'director' && online(r) && r.status!.services?.some((s) => s.name === svc.name))
      .sort((a, b) => Number(masterNodes.has(b.name)) - Number(masterNodes.has(a.name)) || a.name.localeCompare(b.name));
    const reporter = candidates[0];
    const reported = reporter?.status!.services!.find((s) => s.name === svc.name);
    const realServers = svc.realServers.map((rs) => {
      const address = rs.address ?? site.spec.nodes.find((n) => n.name === rs.node)?.address ?? '';
      const port = rs.port ?? svc.port ?? 0;
      const hit = reported?.realServers.find((x) => x.address === address && x.port === port);
      return { address, port, healthy: hit ? hit.healthy : null };
    });
    const healthy = realServers.filter((r) => r.healthy === true).length;
    const total = realServers.length;
    const state: 'up' | 'degraded' | 'down' | 'unknown' = !reported ? 'unknown' : healthy === 0 ? 'down' : healthy < total ? 'degraded' : 'up';
    return { name: svc.name, endpoint, state, healthy, total, reportedBy: reporter?.name ?? null, realServers };
  });

  const nodes = site.spec.nodes.map((n) => {
    const r = byName.get(n.name);
    const appliedRevision = r?.status?.appliedRevision ?? null;
    const desiredRevision = r?.desiredRevision ?? 0;
    return {
      name: n.name,
      role: n.role,
      online: r?.status ? r.status.online : null,
      appliedRevision,
      desiredRevision,
      stale: online(r) && desiredRevision > 0 && (appliedRevision ?? 0) < desiredRevision,
    };
  });

  let overall: SiteStatusView['overall'];
  const states = services.map((s) => s.state);
  if (!reports.some((r) => online(r))) overall = 'unknown';
  else if (states.includes('down') || vrrp.some((v) => v.problem === 'no_master')) overall = 'outage';
  else if (states.includes('degraded') || states.includes('unknown') || vrrp.some((v) => v.problem) || nodes.some((n) => n.online === false || n.stale))
    overall = 'degraded';
  else overall = 'operational';

  return { site: site.metadata.name, revision, generatedAt: now.toISOString(), overall, nodes, vrrp, services };
}
