import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { takeBatch } from './batch.ts';

type Msg = { node: string; n: number; bytes: number };
const opts = (maxItems: number, maxWeight: number) => ({ key: (m: Msg) => m.node, weight: (m: Msg) => m.bytes, maxItems, maxWeight });
const msg = (node: string, n: number, bytes = 1): Msg => ({ node, n, bytes });

describe('takeBatch', () => {
  it('takes one message per node in arrival order and leaves the rest in theirs', () => {
    const pending = [msg('a', 1), msg('b', 2), msg('a', 3), msg('c', 4), msg('b', 5)];
    const { batch, rest } = takeBatch(pending, opts(10, 100));
    expect(batch.map((m) => m.n)).toEqual([1, 2, 4]);
    expect(rest.map((m) => m.n)).toEqual([3, 5]);
  });

  it('stops at maxItems and at maxWeight, and a node left out keeps its later messages behind it', () => {
    expect(takeBatch([msg('a', 1), msg('b', 2), msg('c', 3)], opts(2, 100)).batch.map((m) => m.n)).toEqual([1, 2]);
    // b does not fit by weight; b's next message must not overtake it, c's fits.
    const { batch, rest } = takeBatch([msg('a', 1, 5), msg('b', 2, 10), msg('b', 3, 1), msg('c', 4, 1)], opts(10, 8));
    expect(batch.map((m) => m.n)).toEqual([1, 4]);
    expect(rest.map((m) => m.n)).toEqual([2, 3]);
  });

  it('takes a first message heavier than maxWeight alone', () => {
    const { batch, rest } = takeBatch([msg('a', 1, 50), msg('b', 2, 1)], opts(10, 8));
    expect(batch.map((m) => m.n)).toEqual([1]);
    expect(rest.map((m) => m.n)).toEqual([2]);
  });

  it('taking batches until none is left stores every message once, each node in its order, never two of a node at once', () => {
    const arb = fc.array(fc.record({ node: fc.constantFrom('a', 'b', 'c', 'd'), bytes: fc.integer({ min: 1, max: 20 }) }), { maxLength: 60 });
    fc.assert(
      fc.property(arb, fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 40 }), (raw, maxItems, maxWeight) => {
        let pending = raw.map((m, n) => ({ ...m, n }));
        const stored: Msg[] = [];
        while (pending.length) {
          const { batch, rest } = takeBatch(pending, opts(maxItems, maxWeight));
          expect(batch.length).toBeGreaterThan(0);
          expect(batch.length).toBeLessThanOrEqual(maxItems);
          expect(new Set(batch.map((m) => m.node)).size).toBe(batch.length);
          if (batch.length > 1) expect(batch.reduce((s, m) => s + m.bytes, 0)).toBeLessThanOrEqual(maxWeight);
          stored.push(...batch);
          pending = rest;
        }
        expect(stored.map((m) => m.n).sort((x, y) => x - y)).toEqual(raw.map((_, n) => n));
        for (const node of ['a', 'b', 'c', 'd']) {
          const order = stored.filter((m) => m.node === node).map((m) => m.n);
          expect(order).toEqual([...order].sort((x, y) => x - y));
        }
      }),
    );
  });
});
