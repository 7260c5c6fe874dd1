import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateSite } from '#shared/status/evaluate.ts';
import { iso } from '#shared/status/reasons.ts';
import { nodeIdOf } from '#shared/wire/topics.ts';
import { openDatabase, type Database } from '../db/client.ts';
import { overrides, siteRevisions } from '../db/schema.ts';
import { insertSite, runName, seedsSite } from '../../test/fixtures.test-support.ts';
import { freshPostgres } from '../../test/pg.test-support.ts';
import { STALE_AFTER_MS, StatusBook, type SiteView } from './book.ts';
import { loadStatusInput, sameStatusInput, type SiteRef } from './load.ts';
import { reportRow, statusDbVariants, storeReport } from './reports.test-support.ts';

for (const v of statusDbVariants) {
  if (v.skip) console.log(`StatusBook on ${v.name}: skipped (${v.skip})`);
  describe.skipIf(!!v.skip)(`StatusBook on ${v.name}`, () => {
    const site = seedsSite(runName('book'));
    const name = site.metadata.name;
    const id = (node: string) => nodeIdOf(name, node);
    let d: Database;
    let pg: Awaited<ReturnType<typeof freshPostgres>> | undefined;
    let ref: SiteRef;
    /** When every node last reported, before the test's own reports. */
    const t0 = Date.now();
    const reportedAt = t0 - 5_000;

    const store = (node: string, at: number, extra: object = {}) => storeReport(d.db, reportRow(id(node), at, extra));

    beforeAll(async () => {
      if (v.name === 'PostgreSQL') pg = await freshPostgres(process.env.DATABASE_URL!);
      d = await openDatabase({ url: pg?.url });
      const siteId = await insertSite(d.db, site, { revision: 1 });
      await d.db.insert(siteRevisions).values({ siteId, revision: 1, spec: site, specHash: 'h1', author: 'test' });
      ref = { id: siteId, name, currentRevision: 1 };
      for (const n of site.spec.nodes) await store(n.name, reportedAt);
    });
    afterAll(async () => {
      await d?.close();
      await pg?.drop();
    });

    it('gives its last answer again while the inputs are the same and no time rule is due; evaluates anew on a report, on time alone, on an override', async () => {
      const book = new StatusBook(d.db);
      const at = async (now: number) => (await book.evaluate(ref, now))!.status;
      const first = await at(t0);
      expect(first.nodes.find((n) => n.name === 'dr2')?.state).not.toBe('unknown');

      // Nothing moved: the kept answer (the very parts), as an evaluation from scratch would give it.
      const second = await at(t0 + 1_000);
      expect(second.nodes).toBe(first.nodes);
      expect(second).toEqual({ ...first, evaluatedAt: iso(t0 + 1_000) });
      expect(second).toEqual(evaluateSite(first, (await loadStatusInput(d.db, ref, STALE_AFTER_MS))!, t0 + 1_000));

      // dr1 reports: evaluated anew, and it shows.
      await store('dr1', t0 + 2_000, { agentVersion: '9.9.9' });
      const third = await at(t0 + 2_000);
      expect(third.nodes).not.toBe(first.nodes);
      expect(third.nodes.find((n) => n.name === 'dr1')?.lastReportAt).toBe(iso(t0 + 2_000));
      expect((await at(t0 + 3_000)).nodes).toBe(third.nodes);

      // Time alone: the others' reports grow stale one millisecond past the window.
      const staleAt = reportedAt + STALE_AFTER_MS + 1;
      expect((await at(staleAt - 1)).nodes).toBe(third.nodes);
      const stale = await at(staleAt);
      expect(stale.nodes.find((n) => n.name === 'dr2')?.state).toBe('unknown');
      expect(stale.nodes.find((n) => n.name === 'dr1')?.state).toBe(third.nodes.find((n) => n.name === 'dr1')?.state);

      // An override started: evaluated anew, and listed.
      const until = new Date(staleAt + 3_600_000);
      const maintenance = {
        kind: 'maintenance-director',
        id: 'ov-book',
        node: 'dr1',
        until: until.toISOString(),
        author: 't',
        reason: 'kernel upgrade',
        createdAt: new Date(staleAt).toISOString(),
      };
      await d.db
        .insert(overrides)
        .values({ id: maintenance.id, siteId: ref.id, kind: maintenance.kind, override: maintenance, until, author: 't', reason: maintenance.reason });
      const overridden = await at(staleAt + 1);
      expect(overridden.overrides?.map((o) => o.id)).toEqual(['ov-book']);

      // A clock that went back is not trusted with the kept answer.
      const back = await at(t0 + 1_000);
      expect(back.nodes).not.toBe(overridden.nodes);
    });

    it('all(): every site in one round, each following what moved since the last round (its versions read for all sites at once)', async () => {
      const second = seedsSite(runName('book-2'));
      const secondId = await insertSite(d.db, second, { revision: 1 });
      await d.db.insert(siteRevisions).values({ siteId: secondId, revision: 1, spec: second, specHash: 'h1', author: 'test' });
      const book = new StatusBook(d.db);
      const node = (views: SiteView[], site: string, n: string) => views.find((x) => x.siteId === site)?.status.nodes.find((x) => x.name === n);
      const t = Date.now();
      const first = await book.all(t);
      expect(first.map((x) => x.siteId)).toEqual(expect.arrayContaining([ref.id, secondId]));
      expect(node(first, secondId, 'dr1')?.state).toBe('unknown');
      // A report on each site between rounds: the next round shows both.
      await store('dr1', t + 1_000, { agentVersion: '9.9.11' });
      await storeReport(d.db, reportRow(nodeIdOf(second.metadata.name, 'dr1'), t + 1_000));
      const next = await book.all(t + 1_000);
      expect(node(next, ref.id, 'dr1')?.lastReportAt).toBe(iso(t + 1_000));
      expect(node(next, secondId, 'dr1')?.lastReportAt).toBe(iso(t + 1_000));
      // Each site's nodes as evaluating it alone from scratch gives them (but for how long each state has held).
      const states = (v: SiteView) => v.status.nodes.map((x) => ({ ...x, since: undefined }));
      for (const view of next) {
        const alone = await new StatusBook(d.db).evaluate({ id: view.siteId, name: view.status.site, currentRevision: view.revision }, t + 1_000);
        expect(states(view)).toEqual(states(alone!));
      }
    });
  });
}

describe('sameStatusInput', () => {
  const site = seedsSite('same');
  const base = { site, staleAfterMs: 45_000, nodes: { dr1: { status: null, online: true, receivedAt: 1, desired: { revision: 2, at: 3 } } }, overrides: [] };

  it('holds for the same spec and reports, and fails on any input that moved', () => {
    const nodes = base.nodes;
    expect(sameStatusInput(base, { ...base, nodes: { dr1: { ...nodes.dr1, desired: { revision: 2, at: 3 } } } })).toBe(true);
    expect(sameStatusInput(base, { ...base, site: seedsSite('same') })).toBe(false);
    expect(sameStatusInput(base, { ...base, staleAfterMs: 60_000 })).toBe(false);
    expect(sameStatusInput(base, { ...base, nodes: { dr1: { ...nodes.dr1, receivedAt: 2 } } })).toBe(false);
    expect(sameStatusInput(base, { ...base, nodes: { dr1: { ...nodes.dr1, online: false } } })).toBe(false);
    expect(sameStatusInput(base, { ...base, nodes: { dr1: { ...nodes.dr1, desired: { revision: 3, at: 3 } } } })).toBe(false);
    expect(sameStatusInput(base, { ...base, nodes: { dr1: { ...nodes.dr1, desired: null } } })).toBe(false);
    expect(sameStatusInput(base, { ...base, nodes: { dr2: nodes.dr1 } })).toBe(false);
    expect(sameStatusInput(base, { ...base, nodes: { ...nodes, dr2: nodes.dr1 } })).toBe(false);
    expect(sameStatusInput(base, { ...base, nodes: { dr1: { ...nodes.dr1, status: { nodeId: 'x', online: true } as never } } })).toBe(false);
    expect(sameStatusInput(base, { ...base, overrides: [{ id: 'ov' } as never] })).toBe(false);
  });
});
