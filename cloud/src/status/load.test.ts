import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { openDatabase, type Database } from '../db/client.ts';
import { nodes, nodeStatus, outbox, overrides, siteRevisions, sites } from '../db/schema.ts';
import { insertSite, runName, seedsSite } from '../../test/fixtures.test-support.ts';
import { freshPostgres } from '../../test/pg.test-support.ts';
import { nodeIdOf } from '#shared/wire/topics.ts';
import { inputVersions, inputVersionsOf, loadStatusInput, StatusInputCache, type SiteRef } from './load.ts';
import { reportRow, statusDbVariants, storeReport } from './reports.test-support.ts';

for (const v of statusDbVariants) {
  if (v.skip) console.log(`loadStatusInput on ${v.name}: skipped (${v.skip})`);
  describe.skipIf(!!v.skip)(`loadStatusInput on ${v.name}`, () => {
    const site = seedsSite(runName('load'));
    const name = site.metadata.name;
    const id = (node: string) => nodeIdOf(name, node);
    let d: Database;
    let pg: Awaited<ReturnType<typeof freshPostgres>> | undefined;
    let ref: SiteRef;

    const report = (node: string, at: number, extra: object = {}) => reportRow(id(node), at, extra);
    const store = (row: ReturnType<typeof report>) => storeReport(d.db, row);

    beforeAll(async () => {
      if (v.name === 'PostgreSQL') pg = await freshPostgres(process.env.DATABASE_URL!);
      d = await openDatabase({ url: pg?.url });
      const siteId = await insertSite(d.db, site, { revision: 1 });
      await d.db.insert(siteRevisions).values({ siteId, revision: 1, spec: site, specHash: 'h1', author: 'test' });
      ref = { id: siteId, name, currentRevision: 1 };
      const t = Date.now() - 5_000;
      for (const n of site.spec.nodes) await store(report(n.name, t));
    });
    afterAll(async () => {
      await d?.close();
      await pg?.drop();
    });

    it('answers from its cache what it answers without one, and follows each stored change', async () => {
      const cache = new StatusInputCache();
      const same = async () => {
        const [cached, fresh] = [await loadStatusInput(d.db, ref, 45_000, cache), await loadStatusInput(d.db, ref, 45_000)];
        expect({ ...cached, overrides: undefined }).toEqual({ ...fresh, overrides: undefined });
        return cached!;
      };
      const first = await same();
      expect(Object.keys(first.nodes).sort()).toEqual(site.spec.nodes.map((n) => n.name).sort());
      const second = await same();
      // Not read or validated again: the very objects of the first read, the very input.
      expect(second).toBe(first);
      expect(second.site).toBe(first.site);
      expect(second.nodes.dr1?.status).toBe(first.nodes.dr1?.status);

      // dr1 reports again (its row's time moves); rs1 goes offline (its will, at the same time as its report).
      await store(report('dr1', Date.now(), { agentVersion: '9.9.9' }));
      await d.db
        .update(nodeStatus)
        .set({ online: false })
        .where(eq(nodeStatus.nodeId, id('rs1')));
      const third = await same();
      expect(third.nodes.dr1?.status).toMatchObject({ agentVersion: '9.9.9' });
      expect(third.nodes.rs1?.online).toBe(false);
      expect(third).not.toBe(second);
      expect(third.nodes.dr2?.status).toBe(first.nodes.dr2?.status);

      // A node removed leaves the input (and the cache); a new revision's spec is read.
      await d.db
        .update(nodes)
        .set({ removedAt: new Date() })
        .where(eq(nodes.id, id('rs2')));
      const spec2 = { ...site, spec: { ...site.spec, nodes: site.spec.nodes.filter((n) => n.name !== 'rs2') } };
      await d.db.insert(siteRevisions).values({ siteId: ref.id, revision: 2, spec: spec2, specHash: 'h2', author: 'test' });
      await d.db.update(sites).set({ currentRevision: 2 }).where(eq(sites.id, ref.id));
      ref = { ...ref, currentRevision: 2 };
      const fourth = await same();
      expect(fourth.nodes.rs2).toBeUndefined();
      expect(fourth.site.spec.nodes.map((n) => n.name)).not.toContain('rs2');
      expect([...cache.reports.get(ref.id)!.keys()]).not.toContain(id('rs2'));
      cache.forget(new Set(['site_other']));
      expect([cache.specs.size, cache.reports.size, cache.fleets.size]).toEqual([0, 0, 0]);
    });

    it("reads the fleet again when any of the site's node or outbox rows moves, and not when a node reports", async () => {
      const other = seedsSite(runName('load-other'));
      const otherId = await insertSite(d.db, other, { revision: 1 });
      const cache = new StatusInputCache();
      const load = async () => (await loadStatusInput(d.db, ref, 45_000, cache))!;
      await load();
      const fleetVersion = async (db: typeof d.db, site: string) => (await inputVersions(db, site)).fleet;
      const kept = () => cache.fleets.get(ref.id);
      const keptReports = () => cache.reports.get(ref.id);
      const before = kept();
      const reportsBefore = keptReports();
      const version = await fleetVersion(d.db, ref.id);
      const moves = async (what: string, write: () => Promise<unknown>, expected = true) => {
        const v = await fleetVersion(d.db, ref.id);
        const f = kept();
        await write();
        expect({ what, moved: (await fleetVersion(d.db, ref.id)) !== v }).toEqual({ what, moved: expected });
        await load();
        expect({ what, readAgain: kept() !== f }).toEqual({ what, readAgain: expected });
      };

      // Several sites' versions in one statement: each as read alone; a site without rows has versions too.
      expect(await inputVersionsOf(d.db, [ref.id, otherId, 'site_none'])).toEqual(
        new Map([
          [ref.id, await inputVersions(d.db, ref.id)],
          [otherId, await inputVersions(d.db, otherId)],
          ['site_none', { fleet: '0:0/0:0', reports: '0:0', overrides: '0:0' }],
        ]),
      );
      // Nothing written, a node's report, another site's rows: the same version, the same kept read.
      expect(await fleetVersion(d.db, ref.id)).toBe(version);
      await load();
      expect(kept()).toBe(before);
      expect(keptReports()).toBe(reportsBefore);
      // A report moves the reports' version alone: they are read again, the fleet is not.
      const reportsVersion = (await inputVersions(d.db, ref.id)).reports;
      await moves('a report', () => store(report('dr1', Date.now(), { agentVersion: '9.9.10' })), false);
      expect((await inputVersions(d.db, ref.id)).reports).not.toBe(reportsVersion);
      expect(keptReports()).not.toBe(reportsBefore);
      expect((await load()).nodes.dr1?.status).toMatchObject({ agentVersion: '9.9.10' });
      const reportsNow = keptReports();
      await d.db
        .update(nodeStatus)
        .set({ online: false })
        .where(eq(nodeStatus.nodeId, id('dr2')));
      expect((await load()).nodes.dr2?.online).toBe(false);
      expect(keptReports()).not.toBe(reportsNow);
      await moves('another site', () => d.db.update(nodes).set({ desiredRevision: 7 }).where(eq(nodes.siteId, otherId)), false);

      const dr1 = id('dr1');
      await moves('a desired revision', () => d.db.update(nodes).set({ desiredRevision: 2 }).where(eq(nodes.id, dr1)));
      let row = 0;
      await moves('a document held for its stage', async () => {
        [{ id: row }] = await d.db.insert(outbox).values({ nodeId: dr1, siteId: ref.id, revision: 2, claims: {}, status: 'held' }).returning({ id: outbox.id });
      });
      const sentAt = async () => (await load()).nodes.dr1?.desired?.at;
      expect(await sentAt()).toBeUndefined();
      await moves('released', () => d.db.update(outbox).set({ status: 'pending' }).where(eq(outbox.id, row)));
      const published = new Date(Date.now() - 60_000);
      await moves('published', () => d.db.update(outbox).set({ status: 'published', publishedAt: published }).where(eq(outbox.id, row)));
      expect(await sentAt()).toBe(published.getTime());
      await moves('pruned', () => d.db.delete(outbox).where(eq(outbox.id, row)));
      expect(await sentAt()).toBeUndefined();
      await moves('a node removed', () =>
        d.db
          .update(nodes)
          .set({ removedAt: new Date() })
          .where(eq(nodes.id, id('rs1'))),
      );
      expect((await load()).nodes.rs1).toBeUndefined();
      // Whatever the path, the cached read answers what a read without a cache answers.
      expect({ ...(await load()), overrides: undefined }).toEqual({ ...(await loadStatusInput(d.db, ref, 45_000)), overrides: undefined });
    });

    it('reads the active overrides again when one starts, changes or ends, and when one expires', async () => {
      const cache = new StatusInputCache();
      const t = Date.now();
      const ids = async (now = t) => (await loadStatusInput(d.db, ref, 45_000, cache, { now }))!.overrides?.map((o) => o.id);
      const fresh = async (now = t) => (await loadStatusInput(d.db, ref, 45_000, undefined, { now }))!.overrides?.map((o) => o.id);
      const kept = () => cache.overrides.get(ref.id)?.list;
      const add = (id: string, until: number, siteId = ref.id) => {
        const o = {
          kind: 'maintenance-director',
          id,
          node: 'dr1',
          until: new Date(until).toISOString(),
          author: 't',
          reason: 'r',
          createdAt: new Date(t).toISOString(),
        };
        return d.db.insert(overrides).values({ id, siteId, kind: o.kind, override: o, until: new Date(until), author: 't', reason: 'r' });
      };
      expect(await ids()).toEqual([]);
      const none = kept();
      await ids(t + 1_000);
      expect(kept()).toBe(none);

      await add(`ov-a-${v.name}`, t + 60_000);
      await add(`ov-b-${v.name}`, t + 120_000);
      expect(await ids()).toEqual([`ov-a-${v.name}`, `ov-b-${v.name}`]);
      const two = kept();
      // Nothing moved and nothing expired: the same list, not read again.
      await ids(t + 59_999);
      expect(kept()).toBe(two);
      // Another site's override is not this site's.
      const other = await insertSite(d.db, seedsSite(runName('load-ov')), { revision: 1 });
      await add(`ov-other-${v.name}`, t + 60_000, other);
      await ids(t + 2_000);
      expect(kept()).toBe(two);
      // The first expires by time alone (no row moves until the sweep ends it): read again at that instant.
      expect(await ids(t + 60_000)).toEqual([`ov-b-${v.name}`]);
      expect(await fresh(t + 60_000)).toEqual([`ov-b-${v.name}`]);
      // A clock that went back is answered as a read at that time would be.
      expect(await ids(t + 59_000)).toEqual([`ov-a-${v.name}`, `ov-b-${v.name}`]);
      expect(await ids(t + 60_000)).toEqual([`ov-b-${v.name}`]);
      // Changed (an operator extends it) and ended (cancelled): each is read again.
      await d.db
        .update(overrides)
        .set({ until: new Date(t + 180_000) })
        .where(eq(overrides.id, `ov-a-${v.name}`));
      expect(await ids(t + 90_000)).toEqual([`ov-a-${v.name}`, `ov-b-${v.name}`]);
      await d.db
        .update(overrides)
        .set({ endedAt: new Date(t), endReason: 'cancelled' })
        .where(eq(overrides.id, `ov-b-${v.name}`));
      expect(await ids(t + 2_000)).toEqual([`ov-a-${v.name}`]);
      expect(await fresh(t + 2_000)).toEqual([`ov-a-${v.name}`]);
      await d.db.delete(overrides);
    });
  });
}
