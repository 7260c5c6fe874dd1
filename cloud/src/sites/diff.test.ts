import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Site } from '#shared/site/site.ts';
import { SEEDS_YAML } from '../../test/fixtures.test-support.ts';
import { createHash } from 'node:crypto';
import { compileSite } from '#shared/compiler/compile.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import { CONFIG_FIELDS_LIMIT, diffSites, formatDiff } from './diff.ts';

const seeds = (): Site => Site.parse(parse(SEEDS_YAML));

describe('diffSites', () => {
  it('a new site: everything added, no mass delete', () => {
    const d = diffSites(null, seeds());
    expect(d.unchanged).toBe(false);
    expect(d.nodes).toEqual({ added: ['dr1', 'dr2', 'rs1', 'rs2'], removed: [], changed: [] });
    expect(d.services.added).toEqual(['web']);
    expect(d.realServers.added).toEqual(['web/192.168.1.113:80', 'web/192.168.1.132:80', 'web/192.168.1.133:80']);
    expect(d.vrrp.added).toEqual(['VI_1']);
    expect(d.nodeConfigs.added).toEqual(['dr1', 'dr2', 'rs1', 'rs2']);
    expect(d.massDelete.exceeded).toBe(false);
  });

  it('the same spec: unchanged, nothing listed', () => {
    const d = diffSites(seeds(), seeds());
    expect(d.unchanged).toBe(true);
    expect(formatDiff(d)).toBe('no changes');
  });

  it('a VRRP priority change touches that instance and both directors, not the real servers', () => {
    const next = seeds();
    next.spec.vrrp![0].members[1].priority = 80;
    const d = diffSites(seeds(), next);
    expect(d.vrrp.changed).toEqual(['VI_1']);
    expect(d.nodeConfigs.changed).toEqual(['dr1', 'dr2']);
    expect(d.nodes.changed).toEqual([]);
    expect(formatDiff(d)).toBe(
      [
        '~ vrrp VI_1',
        '    members.dr2.priority: 90 → 80',
        '~ config dr1',
        '    vrrp.instances.VI_1.peers.dr2.priority: 90 → 80',
        '~ config dr2',
        '    vrrp.instances.VI_1.priority: 90 → 80',
      ].join('\n'),
    );
  });

  it('names each changed field per object and per node config, site-wide fields first, and paints lines on request', () => {
    const next = seeds();
    next.spec.services![0].scheduler = 'rr';
    next.spec.services![0].realServers[1].weight = 5;
    next.spec.allowMassDelete = true;
    const d = diffSites(seeds(), next);
    expect(d.objectFields).toEqual([
      { kind: 'site', name: 'bj-dc1', changes: [{ path: 'allowMassDelete', after: true }] },
      {
        kind: 'service',
        name: 'web',
        changes: [
          { path: 'scheduler', before: 'wlc', after: 'rr' },
          { path: 'realServers.rs2:80.weight', before: 1, after: 5 },
        ],
      },
    ]);
    expect(d.configFields.map((c) => c.node)).toEqual(['dr1', 'dr2', 'rs1', 'rs2']); // allowMassDelete reaches every node
    expect(formatDiff(d)).toContain(
      '~ site bj-dc1\n    allowMassDelete: + true\n~ service web\n    scheduler: wlc → rr\n    realServers.rs2:80.weight: 1 → 5\n',
    );
    // A config's fields in its key order (the compiler writes keys sorted).
    expect(formatDiff(d)).toContain(
      '~ config dr1\n    allowMassDelete: false → true\n    services.web.realServers.rs2:80.weight: 1 → 5\n    services.web.scheduler: wlc → rr\n',
    );
    expect(
      formatDiff(d, (kind, t) => `<${kind}>${t}`)
        .split('\n')
        .slice(0, 3),
    ).toEqual(['<changed>~ site bj-dc1', '<field>    allowMassDelete: + true', '<changed>~ service web']);
  });

  it('a node address change shows on the node and on its real-server key', () => {
    const next = seeds();
    next.spec.nodes[2].address = '192.168.1.142';
    const d = diffSites(seeds(), next);
    expect(d.nodes.changed).toEqual(['rs1']);
    expect(d.realServers).toEqual({ added: ['web/192.168.1.142:80'], removed: ['web/192.168.1.132:80'], changed: [] });
    expect(d.massDelete).toMatchObject({ realServers: { removed: 1, total: 3 }, exceeded: false });
  });

  it('counts an unchanged service whole and compares only the services that changed or went', () => {
    const base = seeds();
    const web = base.spec.services![0];
    base.spec.services!.push(structuredClone({ ...web, name: 'web2' }), structuredClone({ ...web, name: 'web3' }));
    const next = structuredClone(base);
    next.spec.services![1].realServers[0].weight = 9; // web2: rs1 changed
    next.spec.services![1].realServers.pop(); // web2: the one listed by address gone
    next.spec.services!.pop(); // web3 gone
    const d = diffSites(base, next);
    expect(d.realServers).toEqual({
      added: [],
      removed: ['web2/192.168.1.113:80', 'web3/192.168.1.113:80', 'web3/192.168.1.132:80', 'web3/192.168.1.133:80'],
      changed: ['web2/192.168.1.132:80'],
    });
    // web's three and web2's three are the kept services' servers; web3 counts as one service.
    expect(d.massDelete).toEqual({ services: { removed: 1, total: 3 }, realServers: { removed: 1, total: 6 }, exceeded: false });
  });

  it('removing more than half of the real servers or services exceeds the guard; half does not', () => {
    const two = seeds();
    two.spec.services![0].realServers = two.spec.services![0].realServers.slice(0, 1);
    expect(diffSites(seeds(), two).massDelete).toEqual({ services: { removed: 0, total: 1 }, realServers: { removed: 2, total: 3 }, exceeded: true });
    const base = seeds();
    base.spec.services!.push({ ...base.spec.services![0], name: 'web2', port: 81 });
    const oneOfTwo = seeds();
    expect(diffSites(base, oneOfTwo).massDelete).toMatchObject({ services: { removed: 1, total: 2 }, exceeded: false });
    const none = seeds();
    delete none.spec.services;
    expect(diffSites(base, none).massDelete.exceeded).toBe(true);
  });

  const hashes = (site: Site) => new Map([...compileSite(site)].map(([n, c]) => [n, createHash('sha256').update(canonicalJson(c)).digest('hex')]));

  it('with the hashes known, answers what compiling both sides answers', () => {
    const next = seeds();
    next.spec.services![0].realServers[1].weight = 5;
    next.spec.nodes.push({ name: 'rs9', role: 'realserver', address: '192.168.1.199' });
    const known = {
      specHashes: { before: 'a', after: 'b' },
      configHashes: { before: hashes(seeds()), after: hashes(next) },
    };
    expect(diffSites(seeds(), next, undefined, known)).toEqual(diffSites(seeds(), next));
    expect(diffSites(seeds(), seeds(), undefined, { ...known, specHashes: { before: 'a', after: 'a' } }).unchanged).toBe(true);
  });

  it(`'auto' lists the field changes of at most ${CONFIG_FIELDS_LIMIT} changed configs; beyond, only their names and how many were left out`, () => {
    const many = (h: string) => new Map(Array.from({ length: CONFIG_FIELDS_LIMIT + 1 }, (_, i) => [`rs${i + 1}`, h]));
    const next = seeds();
    next.spec.services![0].scheduler = 'rr';
    const d = diffSites(seeds(), next, undefined, { configHashes: { before: many('a'), after: many('b') }, configFields: 'auto' });
    expect(d.nodeConfigs.changed).toHaveLength(CONFIG_FIELDS_LIMIT + 1);
    expect(d.configFields).toEqual([]);
    expect(d.configFieldsOmitted).toBe(CONFIG_FIELDS_LIMIT + 1);
    expect(formatDiff(d)).toContain(`~ config rs9\n  (field changes of ${CONFIG_FIELDS_LIMIT + 1} node configs not listed: ask with diff=full)`);
    const few = diffSites(seeds(), next, undefined, { configHashes: { before: hashes(seeds()), after: hashes(next) }, configFields: 'auto' });
    expect(few.configFields.map((c) => c.node)).toEqual(['dr1', 'dr2']);
    expect(few.configFieldsOmitted).toBeUndefined();
  });
});
