import { parse } from 'yaml';
import type { Site } from './site.ts';
import { validateSite } from './validate.ts';

/**
 * A valid site that touches every part of the spec (two instances in a sync group, a track
 * script, connection sync, a VIP service and an fwmark service). Tests mutate copies of it.
 */
export const BASE_YAML = `apiVersion: lvsfleet/v1
kind: Site
metadata: { name: t1 }
spec:
  nodes:
    - { name: dr1, role: director, address: 10.99.0.1, interface: eth0 }
    - { name: dr2, role: director, address: 10.99.0.2, interface: eth0 }
    - { name: rs1, role: realserver, address: 10.99.0.11 }
    - { name: rs2, role: realserver, address: 10.99.0.12 }
  vrrpScripts:
    - { name: chk, script: /bin/true, interval: 2s, weight: -30 }
  vrrp:
    - name: VI_1
      vrid: 50
      version: 2
      advertInterval: 1s
      auth: { type: PASS, password: "1111" }
      vips: [10.99.0.100/32]
      members: [{ node: dr1, priority: 100 }, { node: dr2, priority: 90 }]
      trackScripts: [{ script: chk }]
    - name: VI_2
      vrid: 51
      vips: [10.99.0.101/32]
      members: [{ node: dr1, priority: 90 }, { node: dr2, priority: 100 }]
  syncGroups:
    - { name: VG_1, instances: [VI_1, VI_2] }
  connectionSync: { instance: VI_1 }
  services:
    - name: web
      vip: 10.99.0.100
      port: 80
      scheduler: wlc
      forwarding: dr
      persistence: { timeout: 50s }
      healthCheck: { type: http, path: /, expectStatus: [200] }
      realServers:
        - { node: rs1, weight: 2 }
        - { node: rs2, weight: 1 }
        - { address: 10.99.0.13, port: 80 }
    - name: mail
      fwmark: 7
      scheduler: sh
      forwarding: dr
      realServers: [{ node: rs1 }]
`;

// Loose on purpose: tests poke at arbitrary (also invalid) places of the document.
export type Doc = any;

/** A fresh deep copy of the base site as a plain object. */
export function baseDoc(): Doc {
  return parse(BASE_YAML);
}

/** The base site made dual stack: every node gets an IPv6 address, VI_2 becomes IPv6, `web` serves both families. */
export function dualStack(d: Doc): void {
  d.spec.nodes[0].address6 = '2001:DB8:0::1';
  d.spec.nodes[1].address6 = '2001:db8::2';
  d.spec.nodes[2].address6 = '2001:db8::11';
  d.spec.nodes[3].address6 = '2001:db8::12';
  d.spec.vrrp[1].vips = ['2001:db8::101/64', '2001:DB8::0:102'];
  delete d.spec.services[0].vip;
  d.spec.services[0].vips = ['2001:db8::100', '10.99.0.100'];
  d.spec.services[0].realServers.push({ address: '2001:db8::13', port: 80 });
}

/** The base site with `mutate` applied to a copy, validated (a test's own edits must keep it valid). */
export function baseSite(mutate: (d: Doc) => void = () => {}): Site {
  const d = baseDoc();
  mutate(d);
  const r = validateSite(d);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.site;
}
