/**
 * ipvsadm round trip as a fast-check property: for generated specs, importing the rules
 * `export ipvsadm` writes for a director gives back that director's services, reduced to
 * what IPVS holds with every real server up (ipvsOnly below says exactly what that is); and
 * the export is in the codec's canonical form (parsing and rendering it changes nothing). Services
 * are IPv4 or IPv6 (`-t [2001:db8::10]:80`, `-f 13 -6`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RealServer, Service } from '../site/service.ts';
import type { Site } from '../site/site.ts';
import { arbSite } from '../keepalived/arb-site.test-support.ts';
import { parseSave, renderSave } from './codec.ts';
import { exportIpvsadm } from './export.ts';
import { importIpvsadm } from './import.ts';

/**
 * The part of a service IPVS keeps with every real server up and quorum met, in the shape the
 * importer builds: scheduler flags sorted, DR/TUN servers on the service's port (the kernel
 * cannot map ports), and a sorry server with `inhibit` present at weight 0.
 */
function ipvsOnly(svc: Service): Service {
  const sorry = svc.sorryServer?.inhibit
    ? [{ address: svc.sorryServer.address, port: svc.sorryServer.port, weight: 0, forwarding: svc.sorryServer.forwarding }]
    : [];
  const servers: RealServer[] = [...svc.realServers, ...sorry];
  const fwd = (rs: RealServer) => rs.forwarding ?? svc.forwarding ?? 'dr';
  const uniform = new Set(servers.map(fwd)).size === 1;
  return {
    name:
      svc.fwmark !== undefined
        ? `fwmark-${svc.fwmark}${svc.family === 6 ? '-v6' : ''}`
        : `${svc.protocol ?? 'tcp'}-${svc.vip!.replaceAll(':', '-')}-${svc.port}`,
    ...(svc.fwmark !== undefined
      ? { fwmark: svc.fwmark, ...(svc.family === 6 ? { family: svc.family } : {}) }
      : { vip: svc.vip, port: svc.port, protocol: svc.protocol ?? 'tcp' }),
    scheduler: svc.scheduler ?? 'wlc',
    ...(svc.schedulerFlags?.length ? { schedulerFlags: [...svc.schedulerFlags].sort() } : {}),
    ...(svc.persistence
      ? { persistence: { timeout: svc.persistence.timeout ?? '6m', ...(svc.persistence.netmask ? { netmask: svc.persistence.netmask } : {}) } }
      : {}),
    ...(svc.onePacket ? { onePacket: true } : {}),
    ...(uniform && servers.length ? { forwarding: fwd(servers[0]) } : {}),
    realServers: servers.map((rs) => ({
      address: rs.address!,
      port: fwd(rs) === 'nat' ? (rs.port ?? svc.port ?? 0) : (svc.port ?? 0),
      weight: rs.weight ?? 1,
      ...(uniform ? {} : { forwarding: fwd(rs) }),
      ...(rs.upperThreshold ? { upperThreshold: rs.upperThreshold } : {}),
      ...(rs.lowerThreshold ? { lowerThreshold: rs.lowerThreshold } : {}),
    })),
  };
}

describe('ipvsadm round trip', () => {
  it("import(export(spec)) gives back what IPVS holds of the director's services", () => {
    fc.assert(
      fc.property(arbSite(['eth0'], { ipv6: true }), (site: Site) => {
        for (const node of site.spec.nodes) {
          const { text } = exportIpvsadm(site, node.name);
          const back = importIpvsadm(text, 'rules', { site: site.metadata.name, node: node.name, address: node.address });
          expect(back.diagnostics).toEqual([]);
          const mine = (site.spec.services ?? []).filter((s) => !s.directors || s.directors.includes(node.name)).map(ipvsOnly);
          expect(back.site!.spec.services ?? []).toEqual(mine);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the export is canonical: parsing and rendering it changes nothing', () => {
    fc.assert(
      fc.property(arbSite(['eth0'], { ipv6: true }), (site: Site) => {
        for (const node of site.spec.nodes) {
          const { text } = exportIpvsadm(site, node.name);
          expect(renderSave(parseSave(text))).toBe(text);
        }
      }),
      { numRuns: 200 },
    );
  });
});
