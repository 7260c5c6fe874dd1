/**
 * The small NAT site the workerd tests apply through the Worker: `nodes` directors (d1, d2, …) in
 * 192.0.2.0/24 and one `web` service on 192.0.2.100:80 with `realServers` real servers
 * (192.0.2.21, .22, …); `extra` adds to its spec (a VRRP group, a health check).
 */
export function natSite(name: string, o: { directors?: number; realServers?: number; spec?: Record<string, unknown>; service?: Record<string, unknown> } = {}) {
  const directors = o.directors ?? 1;
  const realServers = o.realServers ?? 1;
  return {
    apiVersion: 'lvsfleet/v1',
    kind: 'Site',
    metadata: { name },
    spec: {
      nodes: Array.from({ length: directors }, (_, i) => ({ name: `d${i + 1}`, role: 'director', address: `192.0.2.${10 + i}`, interface: 'eth0' })),
      ...o.spec,
      services: [
        {
          name: 'web',
          vip: '192.0.2.100',
          port: 80,
          protocol: 'tcp',
          scheduler: 'wlc',
          forwarding: 'nat',
          ...o.service,
          realServers: Array.from({ length: realServers }, (_, i) => ({ address: `192.0.2.${21 + i}`, port: 8080, weight: 1 })),
        },
      ],
    },
  };
}
