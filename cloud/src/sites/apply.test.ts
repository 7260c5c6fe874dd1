import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asc, eq, sql } from 'drizzle-orm';
import { compileSite } from '#shared/compiler/compile.ts';
import type { Site } from '#shared/site/site.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import { nodeIdOf } from '#shared/wire/topics.ts';
import { nodes, nodeStatus, orgs, outbox, overrides, sites } from '../db/schema.ts';
import { loadSigner } from '../keys/signing.ts';
import { MAX_CONFIG_BYTES, type DesiredClaims } from '#shared/wire/desired.ts';
import { openTestDatabase, type TestDatabase } from '../db/test-db.test-support.ts';
import { seedsSite } from '../../test/fixtures.test-support.ts';
import { rowsOf } from '../db/rows.ts';
import { republishOverrides } from '../overrides/republish.ts';
import type { Override } from '#shared/overrides/override.ts';
import { applySite, FEW_OUTBOX_ROWS, OUTBOX_SLICE, OUTBOX_SLICE_CHARS, type WrittenRow } from './apply.ts';
import { CONFIG_FIELDS_LIMIT } from './diff.ts';

/** The seeds' site with `extra` more real servers in its service (each a node of its own). */
function withRealServers(extra: number, weight = 1): Site {
  const site = seedsSite('applyt');
  const added = Array.from({ length: extra }, (_, i) => ({
    name: `rsx${i}`,
    role: 'realserver' as const,
    address: `192.168.${2 + Math.floor(i / 200)}.${(i % 200) + 10}`,
  }));
  return {
    ...site,
    spec: {
      ...site.spec,
      rollout: { enabled: false },
      nodes: [...site.spec.nodes, ...added],
      services: site.spec.services!.map((s) => ({ ...s, realServers: [...s.realServers, ...added.map((n) => ({ node: n.name, port: 80, weight }))] })),
    },
  } as Site;
}

describe('applySite writes', () => {
  let d: TestDatabase;
  beforeAll(async () => {
    d = await openTestDatabase();
    await d.db.insert(orgs).values({ id: 'org_apply', name: 'apply' }).onConflictDoNothing();
  });
  afterAll(async () => {
    await d?.close();
  });

  it('one outbox row per changed node whose claims are the compiled config, and the nodes with their hashes', async () => {
    const site = withRealServers(CONFIG_FIELDS_LIMIT + 5);
    const now = new Date('2026-01-02T03:04:05.000Z');
    const r = await applySite(d.db, { orgId: 'org_apply', site, author: 't', now });
    expect(r.revision).toBe(1);
    const compiled = compileSite(site);
    // Rows sent as joined texts, split by the database (the hand-off test below: a few, bound one by one).
    expect(compiled.size).toBeGreaterThan(FEW_OUTBOX_ROWS);
    expect(r.publishedNodes.sort()).toEqual([...compiled.keys()].sort());
    const rows = await d.db.select().from(outbox).orderBy(asc(outbox.id));
    expect(rows).toHaveLength(compiled.size);
    for (const row of rows) {
      const name = row.nodeId.slice('applyt.'.length);
      expect(row).toMatchObject({ siteId: expect.any(String), revision: 1, overridesVersion: 0, status: 'pending', attempts: 0 });
      expect(canonicalJson(row.claims)).toBe(
        canonicalJson({ nodeId: nodeIdOf('applyt', name), site: 'applyt', revision: 1, issuedAt: now.toISOString(), config: compiled.get(name) }),
      );
    }
    const stored = await d.db.select().from(nodes).where(eq(nodes.siteId, rows[0].siteId));
    expect(stored.map((n) => [n.name, n.desiredRevision, n.removedAt, n.configHash.length]).sort()).toEqual(
      [...compiled.keys()].map((n) => [n, 1, null, 64]).sort(),
    );
  });

  it(`a change to more than ${CONFIG_FIELDS_LIMIT} configs answers their names only, unless asked for the full diff; a forced apply's claims allow the mass delete`, async () => {
    const next = withRealServers(CONFIG_FIELDS_LIMIT + 5, 2);
    const r = await applySite(d.db, { orgId: 'org_apply', site: next, author: 't', dryRun: false });
    expect(r.diff.nodeConfigs.changed).toEqual(['dr1', 'dr2']); // weights live in the directors' tables only
    expect(r.diff.configFields.map((c) => c.node)).toEqual(['dr1', 'dr2']);
    const moved = withRealServers(CONFIG_FIELDS_LIMIT + 5, 2);
    moved.spec.services![0].vip = '192.168.1.201';
    moved.spec.vrrp![0].vips = ['192.168.1.201/24'];
    const summary = await applySite(d.db, { orgId: 'org_apply', site: moved, author: 't', dryRun: true, fullDiff: false });
    expect(summary.diff.configFields.length).toBe(summary.diff.nodeConfigs.changed.length); // a dry run lists every field
    const applied = await applySite(d.db, { orgId: 'org_apply', site: moved, author: 't', force: true });
    expect(applied.diff.nodeConfigs.changed.length).toBeGreaterThan(CONFIG_FIELDS_LIMIT);
    expect(applied.diff.configFields).toEqual([]);
    expect(applied.diff.configFieldsOmitted).toBe(applied.diff.nodeConfigs.changed.length);
    const rows = await d.db.select().from(outbox).where(eq(outbox.revision, applied.revision));
    expect(rows.length).toBe(applied.publishedNodes.length);
    expect(rows.every((row) => (row.claims as { config: { allowMassDelete?: boolean } }).config.allowMassDelete === true)).toBe(true);
    const back = withRealServers(CONFIG_FIELDS_LIMIT + 5, 3);
    const full = await applySite(d.db, { orgId: 'org_apply', site: back, author: 't', fullDiff: true });
    expect(full.diff.configFields.length).toBe(full.diff.nodeConfigs.changed.length);
    expect(full.diff.configFieldsOmitted).toBeUndefined();
  });

  it('hands over, after the commit, exactly the pending rows it wrote: their ids, the same claims and their canonical text, which signs to the same JWS; nothing when nothing was written', async () => {
    const site = { ...withRealServers(3), metadata: { name: 'handed' } } as Site;
    const signer = await loadSigner(d.db);
    const handed: WrittenRow[][] = [];
    const take = (rows: WrittenRow[]) => handed.push(rows);
    const stored = async (revision: number) =>
      (await d.db.select().from(outbox).orderBy(asc(outbox.id))).filter((r) => r.nodeId.startsWith('handed.') && r.revision === revision);
    const check = async (revision: number) => {
      const rows = await stored(revision);
      const pending = rows.filter((r) => r.status === 'pending');
      const got = handed.at(-1)!;
      expect(got.map((r) => r.id).sort((a, b) => a - b)).toEqual(pending.map((r) => r.id));
      for (const row of got) {
        const db = pending.find((r) => r.id === row.id)!;
        const { canonicalClaims, ...asStored } = row;
        expect({ ...asStored, claims: canonicalJson(row.claims), nextAttemptAt: null }).toEqual({
          ...db,
          claims: canonicalJson(db.claims),
          nextAttemptAt: null,
        });
        // The text the publisher signs as it is: the stored claims' canonical JSON, byte for byte.
        expect(canonicalClaims).toBe(canonicalJson(db.claims));
        // The same document: Ed25519 is deterministic, so the same claims sign to the same JWS.
        expect(await signer.sign(row.claims as DesiredClaims, canonicalClaims)).toEqual(await signer.sign(db.claims as DesiredClaims));
      }
      return rows;
    };
    const r1 = await applySite(d.db, { orgId: 'org_apply', site, author: 't' }, take);
    expect(handed).toHaveLength(1);
    expect(r1.publishedNodes.length).toBeLessThanOrEqual(FEW_OUTBOX_ROWS);
    expect((await check(r1.revision)).length).toBe(r1.publishedNodes.length);

    // Forced, with an override active: the claims carry allowMassDelete, the override and its generation, in memory as in the row.
    const [row] = await d.db.update(sites).set({ overridesVersion: 4 }).where(eq(sites.name, 'handed')).returning({ id: sites.id });
    const until = new Date(Date.now() + 3_600_000);
    const maintenance = {
      kind: 'maintenance-director',
      id: 'ov-handed',
      node: 'dr1',
      until: until.toISOString(),
      author: 't',
      reason: 'Wartung für dr1 ✓',
      createdAt: new Date().toISOString(),
    };
    await d.db
      .insert(overrides)
      .values({ id: maintenance.id, siteId: row.id, kind: maintenance.kind, override: maintenance, until, author: 't', reason: maintenance.reason });
    const moved = structuredClone(site);
    moved.spec.services![0].vip = '192.168.1.202';
    moved.spec.vrrp![0].vips = ['192.168.1.202/24'];
    const r2 = await applySite(d.db, { orgId: 'org_apply', site: moved, author: 't', force: true }, take);
    expect(handed).toHaveLength(2);
    const rows2 = await check(r2.revision);
    expect(rows2.every((r) => (r.claims as { overridesVersion?: number }).overridesVersion === 4 && r.overridesVersion === 4)).toBe(true);
    expect(rows2.find((r) => r.nodeId === 'handed.dr1')?.claims).toMatchObject({ overrides: [maintenance] });

    // A dry run, an unchanged spec and a refused apply hand nothing over.
    await applySite(d.db, { orgId: 'org_apply', site: moved, author: 't' }, take);
    await applySite(d.db, { orgId: 'org_apply', site, author: 't', dryRun: true }, take);
    await expect(applySite(d.db, { orgId: 'org_apply', site, author: 't', ifMatch: 1 }, take)).rejects.toThrow(/If-Match/);
    expect(handed).toHaveLength(2);
  });

  it(`a site of more than one slice of ${OUTBOX_SLICE} outbox rows, whose directors' claims each fill a slice: one row per node in the published order, each with its own claims, and every pending row handed over with its stored id`, async () => {
    // Each real server adds about 400 characters to a director's config: 700 of them make each
    // director's claims a slice of their own (OUTBOX_SLICE_CHARS), sent alone, between slices of rows.
    const site = { ...withRealServers(700), metadata: { name: 'sliced' } } as Site;
    const compiled = compileSite(site);
    expect(canonicalJson(compiled.get('dr1')).length).toBeGreaterThan(OUTBOX_SLICE_CHARS);
    const handed: WrittenRow[][] = [];
    const r1 = await applySite(d.db, { orgId: 'org_apply', site, author: 't' }, (rows) => handed.push(rows));
    // Full slices, and the last few rows bound one value each.
    expect(r1.publishedNodes.length).toBeGreaterThan(2 * OUTBOX_SLICE + FEW_OUTBOX_ROWS / 4);
    const rows = (await d.db.select().from(outbox).where(eq(outbox.revision, r1.revision)).orderBy(asc(outbox.id))).filter((r) =>
      r.nodeId.startsWith('sliced.'),
    );
    // Stored in the order the apply published them, whichever statement each went in.
    expect(rows.map((r) => r.nodeId)).toEqual(r1.publishedNodes.map((n) => nodeIdOf('sliced', n)));
    for (const row of rows) {
      expect(row.status).toBe('pending');
      const claims = row.claims as DesiredClaims;
      expect(claims.nodeId).toBe(row.nodeId);
      expect(canonicalJson(claims.config)).toBe(canonicalJson(compiled.get(row.nodeId.slice('sliced.'.length))));
    }
    expect(handed).toHaveLength(1);
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(handed[0].map((r) => r.id).sort((a, b) => a - b)).toEqual(rows.map((r) => r.id));
    for (const row of handed[0]) {
      expect(byId.get(row.id)?.nodeId).toBe(row.nodeId);
      expect(row.canonicalClaims).toBe(canonicalJson(byId.get(row.id)?.claims));
    }
  });

  it('a staged change to many nodes stores each row with its own node: the released ones pending, the rest held, each with its own claims', async () => {
    const site = { ...withRealServers(FEW_OUTBOX_ROWS + 4), metadata: { name: 'staged' } } as Site;
    site.spec.rollout = { enabled: true };
    await applySite(d.db, { orgId: 'org_apply', site, author: 't' });
    // Fresh reports: dr1 MASTER, dr2 BACKUP; so the first stage holds dr1 back.
    for (const node of ['dr1', 'dr2']) {
      const nodeId = nodeIdOf('staged', node);
      const vrrp = [{ instance: 'VI_1', vrid: 50, state: node === 'dr1' ? 'MASTER' : 'BACKUP', priority: 100, effectivePriority: 100 }];
      await d.db.insert(nodeStatus).values({ nodeId, online: true, appliedRevision: 1, status: { nodeId, online: true, appliedRevision: 1, vrrp } });
    }
    const moved = structuredClone(site);
    moved.spec.services![0].vip = '192.168.1.203';
    moved.spec.vrrp![0].vips = ['192.168.1.203/24'];
    const r2 = await applySite(d.db, { orgId: 'org_apply', site: moved, author: 't', force: true });
    expect(r2.staged).toBe(true);
    expect(r2.publishedNodes.length).toBeGreaterThan(FEW_OUTBOX_ROWS);
    const rows = (await d.db.select().from(outbox).where(eq(outbox.revision, r2.revision))).filter((r) => r.nodeId.startsWith('staged.'));
    expect(rows.map((r) => r.nodeId).sort()).toEqual(r2.publishedNodes.map((n) => nodeIdOf('staged', n)).sort());
    const [plan] = rowsOf<{ plan: { released: string[] } }>(
      await d.db.execute(sql`SELECT r.plan FROM rollouts r JOIN sites s ON s.id = r.site_id WHERE s.name = 'staged' AND r.revision = ${r2.revision}`),
    );
    const released = new Set(plan.plan.released.map((n) => nodeIdOf('staged', n)));
    expect(released.size).toBe(rows.length - 1);
    expect(released.has(nodeIdOf('staged', 'dr1'))).toBe(false);
    for (const row of rows) {
      expect(row.status).toBe(released.has(row.nodeId) ? 'pending' : 'held');
      expect((row.claims as DesiredClaims).nodeId).toBe(row.nodeId);
    }
  });

  it("refuses, naming the node, a spec whose director's document would be larger than an agent takes, and writes nothing: a small spec, each real server carrying the service's HTTP check", async () => {
    const urls = Array.from({ length: 40 }, (_, i) => ({ path: `/health/${'x'.repeat(200)}/${i}`, digest: 'd41d8cd98f00b204e9800998ecf8427e' }));
    const realServers = Array.from({ length: 600 }, (_, i) => ({ address: `10.98.${Math.floor(i / 250)}.${(i % 250) + 1}`, port: 80 }));
    const site = {
      apiVersion: 'lvsfleet/v1',
      kind: 'Site',
      metadata: { name: 'oversized' },
      spec: {
        nodes: [{ name: 'dr1', role: 'director', address: '10.98.100.2', interface: 'eth0' }],
        services: [{ name: 'web', vip: '10.98.100.10', port: 80, healthCheck: { type: 'http', urls }, realServers }],
      },
    } as unknown as Site;
    expect(JSON.stringify(site).length).toBeLessThan(128 * 1024);
    for (const dryRun of [true, false]) {
      const refused = await applySite(d.db, { orgId: 'org_apply', site, author: 't', dryRun }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ name: 'DomainError', code: 'invalid', message: 'the spec makes 1 node document(s) too large for an agent' });
      const issues = (refused as { issues: { path: string; message: string }[] }).issues;
      expect(issues).toEqual([
        {
          path: 'spec.nodes[0]',
          message: expect.stringMatching(new RegExp(`^node dr1's compiled config is \\d+ bytes, over the ${MAX_CONFIG_BYTES} that fit in a document`)),
        },
      ]);
      expect(Number(/is (\d+) bytes/.exec(issues[0].message)![1])).toBe(canonicalJson(compileSite(site).get('dr1')).length);
    }
    expect(await d.db.select().from(sites).where(eq(sites.name, 'oversized'))).toEqual([]);
    expect(rowsOf(await d.db.execute(sql`SELECT 1 FROM outbox WHERE node_id = 'oversized.dr1'`))).toEqual([]);
    // With 150 fewer real servers the document fits, and the site is written.
    const fits = { ...site, spec: { ...site.spec, services: [{ ...site.spec.services![0], realServers: realServers.slice(150) }] } } as Site;
    expect((await applySite(d.db, { orgId: 'org_apply', site: fits, author: 't' })).revision).toBe(1);
  });

  it('concurrent first applies of a new site create one site row and take revisions 1 to 5 between them', async () => {
    const specs = [1, 2, 3, 4, 5].map((w) => {
      const site = { ...withRealServers(2), metadata: { name: 'racing' } } as Site;
      site.spec.services![0].realServers[0].weight = w + 10;
      return site;
    });
    const results = await Promise.all(specs.map((site) => applySite(d.db, { orgId: 'org_apply', site, author: 't' })));
    expect(results.map((r) => r.revision).sort()).toEqual([1, 2, 3, 4, 5]);
    const rows = await d.db.select({ id: sites.id, rev: sites.currentRevision }).from(sites).where(eq(sites.name, 'racing'));
    expect(rows.map((r) => r.rev)).toEqual([5]);
  });

  it('marks the nodes that left the spec removed, only those, and live again when they come back; read from the database, with no remembered state', async () => {
    const live = async (siteId: string) =>
      (await d.db.select({ name: nodes.name, removedAt: nodes.removedAt }).from(nodes).where(eq(nodes.siteId, siteId)))
        .filter((n) => n.removedAt === null)
        .map((n) => n.name)
        .sort();
    const named = (site: Site) => ({ ...site, metadata: { name: 'leaving' } }) as Site;
    const all = named(withRealServers(3));
    await applySite(d.db, { orgId: 'org_apply', site: all, author: 't' });
    const [row] = await d.db.select({ id: sites.id }).from(sites).where(eq(sites.name, 'leaving'));
    const everyone = [...compileSite(all).keys()].sort();
    expect(await live(row.id)).toEqual(everyone);
    // rsx1 leaves (it is the only change).
    const without = named(withRealServers(3));
    without.spec.nodes = without.spec.nodes.filter((n) => n.name !== 'rsx1');
    without.spec.services = without.spec.services!.map((s) => ({ ...s, realServers: s.realServers.filter((r) => r.node !== 'rsx1') }));
    await applySite(d.db, { orgId: 'org_apply', site: without, author: 't' });
    expect(await live(row.id)).toEqual(everyone.filter((n) => n !== 'rsx1'));
    // A change in which no node leaves keeps them all, rsx1 still removed.
    const reweighted = structuredClone(without);
    reweighted.spec.services![0].realServers[0].weight = 7;
    await applySite(d.db, { orgId: 'org_apply', site: reweighted, author: 't' });
    expect(await live(row.id)).toEqual(everyone.filter((n) => n !== 'rsx1'));
    // rsx1 comes back: live again.
    await applySite(d.db, { orgId: 'org_apply', site: all, author: 't' });
    expect(await live(row.id)).toEqual(everyone);
  });

  it('every outbox row names a node of its own site that exists, across applies that add and remove nodes and an override republish (the outbox has no foreign keys)', async () => {
    const site = { ...withRealServers(FEW_OUTBOX_ROWS + 2), metadata: { name: 'orphans' } } as Site;
    await applySite(d.db, { orgId: 'org_apply', site, author: 't' });
    // Two real servers leave, one new one comes: rows for the remaining and the new nodes only.
    const fewer = withRealServers(FEW_OUTBOX_ROWS);
    const changed = {
      ...fewer,
      metadata: { name: 'orphans' },
      spec: { ...fewer.spec, nodes: [...fewer.spec.nodes, { name: 'rsnew', role: 'realserver', address: '192.168.2.250' }] },
    } as Site;
    changed.spec.services = changed.spec.services!.map((s) => ({ ...s, realServers: [...s.realServers, { node: 'rsnew', port: 80, weight: 1 }] }));
    const r2 = await applySite(d.db, { orgId: 'org_apply', site: changed, author: 't' });
    expect(r2.publishedNodes).toContain('rsnew');
    const [row] = await d.db.select({ id: sites.id }).from(sites).where(eq(sites.name, 'orphans'));
    const until = new Date(Date.now() + 3_600_000);
    const maintenance: Override = {
      kind: 'maintenance-director',
      id: 'ov-orphans',
      node: 'dr1',
      until: until.toISOString(),
      author: 't',
      reason: 'r',
      createdAt: new Date().toISOString(),
    };
    await d.db.insert(overrides).values({ id: maintenance.id, siteId: row.id, kind: maintenance.kind, override: maintenance, until, author: 't', reason: 'r' });
    const republished = await d.db.transaction((tx) => republishOverrides(tx, row.id, 1, [maintenance], new Date()));
    // Over every row this file wrote, not only this test's.
    const orphans = rowsOf<{ id: number; node_id: string }>(
      await d.db.execute(sql`
        SELECT o.id, o.node_id FROM outbox o
        LEFT JOIN nodes n ON n.id = o.node_id AND n.site_id = o.site_id
        LEFT JOIN sites s ON s.id = o.site_id
        WHERE n.id IS NULL OR s.id IS NULL`),
    );
    expect(orphans).toEqual([]);
    expect(republished.length).toBeGreaterThan(0);
    expect((await d.db.select().from(outbox).where(eq(outbox.siteId, row.id))).length).toBeGreaterThan(FEW_OUTBOX_ROWS);
  });
});
