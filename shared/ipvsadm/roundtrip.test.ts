/**
 * ipvsadm round trip as a fast-check property: for generated specs, importing the rules
 * `export ipvsadm` writes for a director gives back that director's services, reduced to
 * what IPVS holds (ipvsOnly below says exactly what that is); and every line the export
 * writes parses back to the rule it was formatted from.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RealServer, Service } from '../site/service.ts';
import type { Site } from '../site/site.ts';
import { arbSite } from '../keepalived/arb-site.test-support.ts';
import { formatRule, parseRule } from './codec.ts';
import { importIpvsadm } from './import.ts';
import { renderIpvsadm, siteRules } from './render.ts';

/** The part of a service IPVS keeps, in the shape the importer builds. */
function ipvsOnly(svc: Service): Service {
  const fwd = (rs: RealServer) => rs.forwarding ?? svc.forwarding ?? 'dr';
  const uniform = new Set(svc.realServers.map(fwd)).size === 1;
  return {
    name: svc.fwmark !== undefined ? `fwmark-${svc.fwmark}` : `${svc.protocol ?? 'tcp'}-${svc.vip}-${svc.port}`,
    ...(svc.fwmark !== undefined ? { fwmark: svc.fwmark } : { vip: svc.vip, port: svc.port, protocol: svc.protocol ?? 'tcp' }),
    scheduler: svc.scheduler ?? 'wlc',
    ...(svc.schedulerFlags?.length ? { schedulerFlags: svc.schedulerFlags } : {}),
    ...(svc.persistence
      ? { persistence: { timeout: svc.persistence.timeout ?? '6m', ...(svc.persistence.netmask ? { netmask: svc.persistence.netmask } : {}) } }
      : {}),
    ...(svc.onePacket ? { onePacket: true } : {}),
    ...(uniform && svc.realServers.length ? { forwarding: fwd(svc.realServers[0]) } : {}),
    realServers: svc.realServers.map((rs) => ({
      address: rs.address!,
      port: rs.port ?? svc.port ?? 0,
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
      fc.property(arbSite(['eth0']), (site: Site) => {
        for (const node of site.spec.nodes) {
          const { text } = renderIpvsadm(site, node.name);
          const back = importIpvsadm(text, 'rules', { site: site.metadata.name, node: node.name, address: node.address });
          expect(back.diagnostics).toEqual([]);
          const mine = (site.spec.services ?? []).filter((s) => !s.directors || s.directors.includes(node.name)).map(ipvsOnly);
          expect(back.site!.spec.services ?? []).toEqual(mine);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('every exported line parses back to its rule', () => {
    fc.assert(
      fc.property(arbSite(['eth0']), (site: Site) => {
        for (const node of site.spec.nodes) for (const rule of siteRules(site, node.name).rules) expect(parseRule(formatRule(rule))).toEqual(rule);
      }),
      { numRuns: 200 },
    );
  });
});
