import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { openDatabase, type Database } from '../db/client.ts';
import { nodes, nodeStatus, siteRevisions, sites } from '../db/schema.ts';
import { insertSite, runName, seedsSite } from '../../test/fixtures.test-support.ts';
import { freshPostgres } from '../../test/pg.test-support.ts';
import { nodeIdOf } from '#shared/wire/topics.ts';
import { loadStatusInput, StatusInputCache, type SiteRef } from './load.ts';
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
      // Not read or validated again: the very objects of the first read.
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
      expect([cache.specs.size, cache.reports.size]).toEqual([0, 0]);
    });
  });
}
