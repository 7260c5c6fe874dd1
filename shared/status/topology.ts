import { DEFAULTS } from '../site/defaults.ts';
import type { Site } from '../site/site.ts';
import { familyOf, realServerAddress, serviceVips } from '../site/family.ts';
import { formatHostPort, splitCidr } from '../util/ip.ts';
import { byName } from '../site/by-name.ts';

/** What the status model needs of a site spec, resolved once per spec object. */
export interface Topology {
  site: string;
  nodes: { name: string; role: 'director' | 'realserver' }[];
  directors: string[];
  groups: { name: string; vrid: number; members: string[]; vips: Set<string> }[];
  services: {
    name: string;
    /** `tcp 10.0.0.1:80`, `tcp [2001:db8::10]:80`, both joined by ", " for a dual-stack service, or `fwmark 7`. */
    endpoint: string;
    directors: string[];
    group: string | null;
    quorum: number;
    /** Addresses and ports resolved as the compiler does, so they match what directors report. */
    realServers: { address: string; port: number; node: string | null; checked: boolean }[];
  }[];
}

const cache = new WeakMap<Site, Topology>();

/** Memoised on the (immutable, validated) spec object: a site's spec changes once per revision, its reports every few seconds. */
export function topologyOf(site: Site): Topology {
  let t = cache.get(site);
  if (!t) {
    t = build(site);
    cache.set(site, t);
  }
  return t;
}

function build(site: Site): Topology {
  const s = site.spec;
  const nodes = byName(s.nodes);
  const directors = s.nodes.filter((n) => n.role === 'director').map((n) => n.name);
  const groups = (s.vrrp ?? []).map((i) => ({
    name: i.name,
    vrid: i.vrid,
    members: i.members.map((m) => m.node),
    vips: new Set(i.vips.map((v) => splitCidr(typeof v === 'string' ? v : v.address).address)),
  }));
  const services = (s.services ?? []).map((svc) => {
    const port = svc.port ?? 0;
    const vips = [...serviceVips(svc)].sort((a, b) => familyOf(a) - familyOf(b));
    const proto = svc.protocol ?? DEFAULTS.service.protocol;
    // A dual-stack service has each real server once per family it is reached in, as the compiler lists them.
    const families = vips.length ? vips.map(familyOf) : [svc.family ?? 4];
    return {
      name: svc.name,
      endpoint:
        svc.fwmark !== undefined
          ? `fwmark ${svc.fwmark}${svc.family === 6 ? ' (IPv6)' : ''}`
          : vips.map((v) => `${proto} ${formatHostPort(v, port)}`).join(', '),
      directors: svc.directors ?? directors,
      group: groups.find((g) => vips.some((v) => g.vips.has(v)))?.name ?? null,
      quorum: svc.quorum ?? DEFAULTS.service.quorum,
      realServers: families.flatMap((f) =>
        svc.realServers.flatMap((rs) => {
          const address = realServerAddress(rs, nodes, f, families.length > 1);
          return address === null
            ? []
            : [{ address, port: rs.port ?? port, node: rs.node ?? null, checked: (rs.healthCheck ?? svc.healthCheck) !== undefined }];
        }),
      ),
    };
  });
  return { site: site.metadata.name, nodes: s.nodes.map((n) => ({ name: n.name, role: n.role })), directors, groups, services };
}
