import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { asc, like } from 'drizzle-orm';
import { openDatabase, type Database } from '../db/client.ts';
import { events, nodeStatus } from '../db/schema.ts';
import { freshPostgres } from '../../test/pg.test-support.ts';
import { takeBatch } from './batch.ts';
import { classify } from './decide.ts';
import { recordReport, recordReports, type Report } from './record.ts';
import { lastWill } from '#shared/wire/status.ts';
import { topics } from '#shared/wire/topics.ts';

const variants = [
  { name: 'PGlite', skip: false as string | false },
  { name: 'PostgreSQL', skip: !process.env.DATABASE_URL ? 'DATABASE_URL not set' : false },
];

/** An accepted report as ingest makes it, from what a node sends. */
function report(nodeId: string, kind: 'status' | 'event', body: object): Report {
  const payload = Buffer.from(JSON.stringify({ nodeId, ...body }));
  const msg = classify(kind === 'status' ? topics.status(nodeId) : topics.events(nodeId), payload);
  if (msg.kind !== 'status' && msg.kind !== 'event') throw new Error(`not accepted: ${JSON.stringify(msg)}`);
  return { siteId: 'site_rec', msg, payload };
}
const status = (nodeId: string, online: boolean, at: string, appliedRevision: number) => report(nodeId, 'status', { online, at, appliedRevision });
const will = (nodeId: string) => report(nodeId, 'status', lastWill(nodeId));

for (const v of variants) {
  if (v.skip) console.log(`recordReports on ${v.name}: skipped (${v.skip})`);
  describe.skipIf(!!v.skip)(`recordReports on ${v.name}`, () => {
    let d: Database;
    let pg: Awaited<ReturnType<typeof freshPostgres>> | undefined;
    beforeAll(async () => {
      if (!v.name.startsWith('PGlite')) pg = await freshPostgres(process.env.DATABASE_URL!);
      d = await openDatabase({ url: pg?.url });
    });
    afterAll(async () => {
      await d?.close();
      await pg?.drop();
    });

    const rowsOf = (prefix: string) =>
      d.db
        .select()
        .from(nodeStatus)
        .where(like(nodeStatus.nodeId, `${prefix}%`))
        .orderBy(asc(nodeStatus.nodeId));
    const eventsOf = (prefix: string) =>
      d.db
        .select()
        .from(events)
        .where(like(events.nodeId, `${prefix}%`))
        .orderBy(asc(events.id));

    it("stores 300 nodes' reports in one batch, then their wills, with each presence change once and stale copies ignored", async () => {
      const ids = Array.from({ length: 300 }, (_, i) => `big.n${String(i).padStart(3, '0')}`);
      const t1 = new Date(Date.now() - 5_000).toISOString();
      await recordReports(
        d.db,
        ids.map((id) => status(id, true, t1, 3)),
        new Date(),
      );
      expect((await rowsOf('big.')).map((r) => [r.nodeId, r.online, r.appliedRevision])).toEqual(ids.map((id) => [id, true, 3]));
      // Half the nodes vanish (their wills), the other half's reports come again from a replica behind.
      const older = new Date(Date.now() - 9_000).toISOString();
      await recordReports(
        d.db,
        ids.map((id, i) => (i % 2 ? will(id) : status(id, true, older, 2))),
        new Date(),
      );
      const rows = await rowsOf('big.');
      expect(rows.map((r) => [r.online, r.appliedRevision])).toEqual(ids.map((_, i) => [i % 2 === 0, 3]));
      expect(rows.every((r) => (r.status as { at?: string }).at === t1)).toBe(true);
      const evs = await eventsOf('big.');
      expect(evs.filter((e) => e.type === 'node.online').length).toBe(300);
      expect(evs.filter((e) => e.type === 'node.offline').map((e) => e.nodeId)).toEqual(ids.filter((_, i) => i % 2));
    });

    it('stores the same messages in batches as one at a time: the same rows and the same events in each node’s order', async () => {
      const base = Date.now() - 60_000;
      const msgArb = fc.record({
        node: fc.constantFrom('a', 'b', 'c', 'd'),
        kind: fc.constantFrom('status', 'will', 'event'),
        online: fc.boolean(),
        dt: fc.integer({ min: 0, max: 20 }),
        rev: fc.integer({ min: 1, max: 9 }),
      });
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(msgArb, { maxLength: 25 }), fc.integer({ min: 1, max: 4 }), async (seq, maxItems) => {
          run++;
          const [one, many] = [`one${run}.`, `many${run}.`];
          const make = (prefix: string) =>
            seq.map((m, i) => {
              const id = `${prefix}${m.node}`;
              const at = new Date(base + m.dt * 1000).toISOString();
              if (m.kind === 'will') return will(id);
              if (m.kind === 'event')
                return report(id, 'event', { at, type: 'vrrp.transition', data: { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: `m${i}` } });
              return status(id, m.online, at, m.rev);
            });
          const now = new Date();
          // The caller's stream order gives a will its place, as ingest does.
          const withStream = (reports: Report[]) => {
            const last = new Map<string, string>();
            return reports.map((r) => {
              const streamAt = last.get(r.msg.nodeId);
              if (r.msg.kind === 'status' && r.msg.status.at) last.set(r.msg.nodeId, r.msg.status.at);
              return { ...r, streamAt };
            });
          };
          for (const r of withStream(make(one))) await recordReport(d.db, r.siteId, r.msg, now, r.payload, r.streamAt);
          let pending = withStream(make(many));
          while (pending.length) {
            const { batch, rest } = takeBatch(pending, { key: (r) => r.msg.nodeId, weight: () => 1, maxItems, maxWeight: 100 });
            await recordReports(d.db, batch, now);
            pending = rest;
          }
          const strip = (prefix: string, id: string | null) => id?.slice(prefix.length);
          const rowsView = async (prefix: string) =>
            (await rowsOf(prefix)).map((r) => ({ ...r, nodeId: strip(prefix, r.nodeId), status: { ...(r.status as object), nodeId: undefined } }));
          expect(await rowsView(many)).toEqual(await rowsView(one));
          const eventsView = async (prefix: string) => {
            const byNode = new Map<string, string[]>();
            for (const e of await eventsOf(prefix))
              byNode.set(strip(prefix, e.nodeId)!, [...(byNode.get(strip(prefix, e.nodeId)!) ?? []), `${e.type}:${JSON.stringify(e.data)}`]);
            return Object.fromEntries([...byNode].sort());
          };
          expect(await eventsView(many)).toEqual(await eventsView(one));
        }),
        { numRuns: 15 },
      );
    });

    it('refuses two status reports of one node in a batch (their order would be lost), storing nothing', async () => {
      const at = new Date().toISOString();
      await expect(recordReports(d.db, [status('dup.a', true, at, 1), status('dup.a', false, at, 1)], new Date())).rejects.toThrow(
        'two status reports of dup.a in one batch',
      );
      expect(await rowsOf('dup.')).toEqual([]);
    });

    it('two replicas storing the same 200 reports and 200 events at once, in opposite orders, both finish, each stored once', async () => {
      const ids = Array.from({ length: 200 }, (_, i) => `rep.n${i}`);
      const at = new Date().toISOString();
      const batch = ids.map((id) => status(id, true, at, 1));
      await Promise.all([recordReports(d.db, batch, new Date()), recordReports(d.db, [...batch].reverse(), new Date())]);
      expect((await rowsOf('rep.')).filter((r) => r.online).length).toBe(200);
      expect((await eventsOf('rep.')).filter((e) => e.type === 'node.online').length).toBe(200);
      const evs = ids.map((id) => report(id, 'event', { at, type: 'apply.failed', data: { revision: 1, error: 'x' } }));
      for (let round = 0; round < 5; round++) await Promise.all([recordReports(d.db, evs, new Date()), recordReports(d.db, [...evs].reverse(), new Date())]);
      expect((await eventsOf('rep.')).filter((e) => e.type === 'apply.failed').length).toBe(200);
    });
  });
}
