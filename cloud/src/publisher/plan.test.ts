import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planDrain, type PendingRow } from './plan.ts';

const now = new Date('2026-01-01T00:00:10Z');
const due = new Date('2026-01-01T00:00:00Z');
const later = new Date('2026-01-01T00:01:00Z');
const row = (id: number, nodeId: string, revision: number, next = due): PendingRow => ({ id, nodeId, revision, nextAttemptAt: next });

describe('planDrain', () => {
  it('publishes only the newest revision per node and supersedes the older ones after it', () => {
    const p = planDrain([row(3, 'a.x', 3), row(1, 'a.x', 1), row(2, 'a.y', 1), row(4, 'a.x', 2)], new Map(), now);
    expect(p.publish.map((r) => r.id)).toEqual([3, 2]);
    expect(p.skip).toEqual([
      { row: row(1, 'a.x', 1), after: 3, reason: 'superseded by revision 3' },
      { row: row(4, 'a.x', 2), after: 3, reason: 'superseded by revision 3' },
    ]);
  });

  it('never publishes a revision at or below the one already published', () => {
    const p = planDrain([row(5, 'a.x', 4), row(6, 'a.x', 5)], new Map([['a.x', { revision: 5, overridesVersion: 0 }]]), now);
    expect(p.publish).toEqual([]);
    expect(p.skip.map((s) => [s.row.id, s.after])).toEqual([
      [5, null],
      [6, null],
    ]);
  });

  it('waits for the newest row’s back-off instead of publishing an older due row', () => {
    const p = planDrain([row(1, 'a.x', 1, due), row(2, 'a.x', 2, later)], new Map(), now);
    expect(p).toEqual({ publish: [], skip: [] });
  });

  it('orders by revision, then override generation: changed overrides for the same revision supersede, an equal or older generation is not sent again', () => {
    const ov = (id: number, revision: number, overridesVersion: number): PendingRow => ({ ...row(id, 'a.x', revision), overridesVersion });
    const p = planDrain([ov(7, 3, 2), ov(8, 3, 1), ov(9, 2, 5)], new Map([['a.x', { revision: 3, overridesVersion: 1 }]]), now);
    expect(p.publish.map((r) => r.id)).toEqual([7]);
    expect(p.skip.map((s) => [s.row.id, s.after, s.reason])).toEqual([
      [9, null, 'revision 3 (overrides 1) already published'],
      [8, null, 'revision 3 (overrides 1) already published'],
    ]);
    const q = planDrain([ov(10, 4, 0), ov(11, 3, 6)], new Map(), now);
    expect(q.publish.map((r) => r.id)).toEqual([10]);
    expect(q.skip).toEqual([{ row: ov(11, 3, 6), after: 10, reason: 'superseded by revision 4' }]);
  });

  it('property: for every node at most one row, the newest above the floor, and everything else is accounted for', () => {
    const rowArb = fc.record({
      id: fc.integer({ min: 1, max: 10_000 }),
      nodeId: fc.constantFrom('s.a', 's.b', 's.c'),
      revision: fc.integer({ min: 1, max: 20 }),
      late: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(rowArb, { selector: (r) => r.id, maxLength: 40 }),
        fc.dictionary(fc.constantFrom('s.a', 's.b'), fc.integer({ min: 0, max: 20 })),
        (raw, floors) => {
          const rows = raw.map((r) => row(r.id, r.nodeId, r.revision, r.late ? later : due));
          const lastPublished = new Map(Object.entries(floors).map(([k, v]) => [k, { revision: v, overridesVersion: 0 }]));
          const p = planDrain(rows, lastPublished, now);
          const nodesOut = p.publish.map((r) => r.nodeId);
          expect(new Set(nodesOut).size).toBe(nodesOut.length);
          for (const pub of p.publish) {
            const mine = rows.filter((r) => r.nodeId === pub.nodeId);
            expect(pub.revision).toBe(Math.max(...mine.map((r) => r.revision)));
            expect(pub.revision).toBeGreaterThan(lastPublished.get(pub.nodeId)?.revision ?? 0);
            expect(pub.nextAttemptAt.getTime()).toBeLessThanOrEqual(now.getTime());
          }
          for (const s of p.skip) {
            const floor = lastPublished.get(s.row.nodeId)?.revision ?? 0;
            if (s.after === null) expect(s.row.revision).toBeLessThanOrEqual(floor);
            else expect(p.publish.find((r) => r.id === s.after)!.nodeId).toBe(s.row.nodeId);
            expect(p.publish.includes(s.row)).toBe(false);
          }
        },
      ),
    );
  });
});
