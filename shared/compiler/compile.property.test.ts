import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NodeConfig } from '../config/node-config.ts';
import { SCHEDULERS } from '../site/ipvs-words.ts';
import type { Site } from '../site/site.ts';
import { validateSite } from '../site/validate.ts';
import { canonicalJson } from '../util/canonical-json.ts';
import { compileNode, compileSite } from './compile.ts';
import { CompileMemo } from './compile-memo.ts';
import { seededRandom } from '../util/random.ts';

/** Valid-by-construction sites: distinct names, addresses, VRIDs, VIPs and ports. */
const siteArb = fc
  .record({
    directors: fc.integer({ min: 1, max: 3 }),
    realservers: fc.integer({ min: 0, max: 3 }),
    instances: fc.array(
      fc.record({
        version: fc.constantFrom(2, 3),
        advertUnits: fc.integer({ min: 1, max: 5 }),
        priorities: fc.array(fc.option(fc.integer({ min: 1, max: 254 }), { nil: null }), { minLength: 3, maxLength: 3 }),
        preempt: fc.boolean(),
        unicast: fc.boolean(),
        tracked: fc.boolean(),
      }),
      { maxLength: 3 },
    ),
    services: fc.array(
      fc.record({
        scheduler: fc.constantFrom(...SCHEDULERS),
        forwarding: fc.constantFrom('dr', 'nat', 'tun'),
        members: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
        weights: fc.array(fc.integer({ min: 0, max: 65535 }), { minLength: 3, maxLength: 3 }),
        check: fc.option(fc.constantFrom('tcp', 'http', 'dns', 'ping'), { nil: undefined }),
        persistence: fc.boolean(),
      }),
      { maxLength: 3 },
    ),
    syncGroup: fc.boolean(),
  })
  .map((g) => {
    const directors = Array.from({ length: g.directors }, (_, i) => ({ name: `dr${i + 1}`, role: 'director', address: `10.99.0.${i + 1}`, interface: 'eth0' }));
    const realservers = Array.from({ length: g.realservers }, (_, i) => ({ name: `rs${i + 1}`, role: 'realserver', address: `10.99.1.${i + 1}` }));
    const vrrp = g.instances.map((inst, i) => {
      const members = directors.flatMap((d, k) => (inst.priorities[k] === null ? [] : [{ node: d.name, priority: inst.priorities[k]! }]));
      return {
        name: `VI_${i + 1}`,
        vrid: 10 + i,
        version: inst.version,
        advertInterval: inst.version === 2 ? `${inst.advertUnits}s` : `${inst.advertUnits * 10}ms`,
        preempt: inst.preempt,
        vips: [`10.88.0.${i + 1}/32`],
        members: members.length ? members : [{ node: 'dr1', priority: 100 }],
        ...(inst.unicast ? { unicast: true, unicastPeers: ['10.99.9.9'] } : {}),
        ...(inst.tracked ? { trackScripts: [{ script: 'chk' }] } : {}),
      };
    });
    const services = g.services.map((s, i) => ({
      name: `svc${i + 1}`,
      vip: `10.88.0.${i + 1}`,
      port: 80 + i,
      scheduler: s.scheduler,
      forwarding: s.forwarding,
      ...(s.persistence ? { persistence: { timeout: '60s' } } : {}),
      ...(s.check ? { healthCheck: { type: s.check, interval: '2s' } } : {}),
      realServers: realservers.flatMap((r, k) => (s.members[k] ? [{ node: r.name, weight: s.weights[k] }] : [])),
    }));
    return {
      apiVersion: 'lvsfleet/v1',
      kind: 'Site',
      metadata: { name: 'prop' },
      spec: {
        nodes: [...directors, ...realservers],
        vrrpScripts: [{ name: 'chk', script: '/bin/true', weight: -10 }],
        ...(vrrp.length ? { vrrp } : {}),
        ...(g.syncGroup && vrrp.length >= 2 ? { syncGroups: [{ name: 'VG', instances: vrrp.slice(0, 2).map((v) => v.name) }] } : {}),
        ...(services.length ? { services } : {}),
      },
    };
  });

/** The same value with object keys in a shuffled order at every level. */
function shuffleKeys(value: unknown, rand: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, rand));
  if (!value || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  for (let i = keys.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [keys[i], keys[j]] = [keys[j], keys[i]];
  }
  return Object.fromEntries(keys.map((k) => [k, shuffleKeys((value as Record<string, unknown>)[k], rand)]));
}

function valid(doc: unknown): Site {
  const r = validateSite(doc);
  if (!r.ok) throw new Error(`generator made an invalid site: ${JSON.stringify(r.issues)}`);
  return r.site;
}

const canonOf = (configs: Map<string, NodeConfig>) => [...configs].map(([n, c]) => `${n}=${canonicalJson(c)}`).join('\n');
const canon = (site: Site) => canonOf(compileSite(site));

describe('compileSite properties', () => {
  it('with a CompileMemo carried from site to site, compiles each site as a compile without one does', () => {
    fc.assert(
      fc.property(fc.array(siteArb, { minLength: 2, maxLength: 5 }), (docs) => {
        const memo = new CompileMemo();
        for (const doc of docs) {
          const site = valid(doc);
          expect(canonOf(compileSite(site, memo))).toBe(canonOf(compileSite(site)));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('is deterministic, across runs and across the key order of the input', () => {
    fc.assert(
      fc.property(siteArb, fc.integer(), (doc, seed) => {
        const once = canon(valid(doc));
        expect(canon(valid(doc))).toBe(once);
        expect(canon(valid(shuffleKeys(doc, seededRandom(seed))))).toBe(once);
      }),
      { numRuns: 150 },
    );
  });

  it('every node config passes NodeConfig.parse unchanged', () => {
    fc.assert(
      fc.property(siteArb, (doc) => {
        for (const config of compileSite(valid(doc)).values()) expect(NodeConfig.parse(config)).toEqual(config);
      }),
      { numRuns: 150 },
    );
  });

  it('a node only ever gets its own priority, and its peers theirs', () => {
    fc.assert(
      fc.property(siteArb, (doc) => {
        const site = valid(doc);
        for (const [name, config] of compileSite(site)) {
          for (const inst of config.vrrp.instances) {
            const spec = site.spec.vrrp!.find((v) => v.name === inst.name)!;
            const priorityOf = new Map(spec.members.map((m) => [m.node, m.priority]));
            expect(inst.priority).toBe(priorityOf.get(name));
            expect(inst.peers.some((p) => p.node === name)).toBe(false);
            for (const peer of inst.peers) if (peer.node !== null) expect(peer.priority).toBe(priorityOf.get(peer.node));
            expect(inst.peers.filter((p) => p.node !== null).length).toBe(spec.members.length - 1);
          }
          const memberOf = (site.spec.vrrp ?? []).filter((v) => v.members.some((m) => m.node === name)).map((v) => v.name);
          expect(config.vrrp.instances.map((i) => i.name)).toEqual(memberOf);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('compiling the whole site (one shared index) gives each node what compiling it alone gives', () => {
    fc.assert(
      fc.property(siteArb, (doc) => {
        const site = valid(doc);
        const before = canonicalJson(site);
        for (const [name, config] of compileSite(site)) expect(canonicalJson(config)).toBe(canonicalJson(compileNode(site, name)));
        // Nothing the compiler shares between nodes may be written back into the spec.
        expect(canonicalJson(site)).toBe(before);
      }),
      { numRuns: 100 },
    );
  });
});
