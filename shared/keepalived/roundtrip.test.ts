/**
 * Round trip: import(export(spec)) equals spec, as a fast-check property over generated valid
 * specs in the importer's canonical form (arb-site.test-support.ts says what that form is):
 * every director's keepalived.conf is rendered, then all of them are imported together.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateSite } from '../site/validate.ts';
import { importKeepalived } from './import.ts';
import type { FileSource } from './lexer.ts';
import { renderKeepalived } from './render.ts';
import { arbSite } from './arb-site.test-support.ts';
import type { Site } from '../site/site.ts';

/** Renders every director and imports the files back. */
export function roundTrip(site: Site): ReturnType<typeof importKeepalived> & { files: Map<string, string> } {
  const files = new Map<string, string>();
  for (const n of site.spec.nodes) if (n.role === 'director') files.set(`${n.name}.conf`, renderKeepalived(site, n.name).text);
  const source: FileSource = {
    read: (p) => {
      const t = files.get(p);
      if (t === undefined) throw new Error(`no such file ${p}`);
      return t;
    },
    glob: () => [],
  };
  const addresses = Object.fromEntries(site.spec.nodes.map((n) => [n.name, n.address]));
  return { ...importKeepalived([...files.keys()], source, { site: site.metadata.name, addresses }), files };
}

function sortServices(site: Site): Site {
  const services = site.spec.services && [...site.spec.services].sort((a, b) => a.name.localeCompare(b.name));
  return { ...site, spec: { ...site.spec, ...(services ? { services } : {}) } };
}

describe('keepalived round trip', () => {
  it('generated specs are valid', () => {
    fc.assert(
      fc.property(arbSite(['eth0', 'eth1'], { ipv6: true }), (site) => {
        const v = validateSite(site);
        expect(v.ok ? [] : v.issues).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('import(export(spec)) equals spec', () => {
    fc.assert(
      fc.property(arbSite(['eth0', 'eth1'], { ipv6: true }), (site) => {
        const back = roundTrip(site);
        expect(back.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        // keepalived.conf files carry services in their own order; merged they come in the order
        // the files first show them, so the comparison ignores service order (IPVS has none).
        expect(sortServices(back.site!)).toEqual(sortServices(site));
      }),
      { numRuns: 300 },
    );
  });

  it('a real pair from the seeds survives the round trip', () => {
    const site: Site = {
      apiVersion: 'lvsfleet/v1',
      kind: 'Site',
      metadata: { name: 'bj-dc1' },
      spec: {
        nodes: [
          { name: 'dr1', role: 'director', address: '192.168.1.130', interface: 'eth0' },
          { name: 'dr2', role: 'director', address: '192.168.1.131', interface: 'eth0' },
        ],
        vrrp: [
          {
            name: 'VI_1',
            vrid: 50,
            advertInterval: '1s',
            auth: { type: 'PASS', password: '1111' },
            vips: ['192.168.1.150/32'],
            members: [
              { node: 'dr1', priority: 100, initialState: 'MASTER' },
              { node: 'dr2', priority: 90 },
            ],
          },
        ],
        services: [
          {
            name: 'tcp-192.168.1.150-80',
            vip: '192.168.1.150',
            port: 80,
            protocol: 'tcp',
            scheduler: 'rr',
            forwarding: 'dr',
            persistence: { timeout: '50s' },
            sorryServer: { address: '127.0.0.1', port: 80 },
            healthCheck: { type: 'http', path: '/', digest: 'ff20ad2481f97b1754ef3e12ecd3a9cc', interval: '6s', timeout: '3s', retries: 3, retryDelay: '3s' },
            realServers: [
              { address: '192.168.1.132', port: 80, weight: 2 },
              { address: '192.168.1.113', port: 80, weight: 1 },
            ],
          },
        ],
      },
    };
    const back = roundTrip(site);
    expect(back.diagnostics).toEqual([]);
    expect(back.site).toEqual(site);
  });
});
