import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { countMassDelete, overThreshold, removedKeys } from './mass-delete.ts';

const sets = (o: Record<string, string[]>) => new Map(Object.entries(o).map(([k, v]) => [k, new Set(v)]));

describe('mass-delete rule', () => {
  it('more than one and more than half', () => {
    expect(overThreshold(1, 1)).toBe(false);
    expect(overThreshold(2, 4)).toBe(false);
    expect(overThreshold(2, 3)).toBe(true);
    expect(overThreshold(3, 4)).toBe(true);
    expect(overThreshold(0, 0)).toBe(false);
  });

  it('counts real servers of kept services only; a removed service counts once as a service', () => {
    const before = sets({ web: ['a', 'b', 'c'], api: ['x', 'y'], old: ['p', 'q', 'r'] });
    const c = countMassDelete(before, sets({ web: ['a'], api: ['x', 'y'] }));
    expect(c).toEqual({ services: { removed: 1, total: 3 }, realServers: { removed: 2, total: 5 }, exceeded: false });
    expect(countMassDelete(before, sets({ web: ['a'], api: ['x'] })).exceeded).toBe(true);
    expect(countMassDelete(before, sets({ web: ['a', 'b', 'c'] })).exceeded).toBe(true);
    expect(removedKeys(before, sets({ web: ['a'], api: ['x', 'y'] }))).toEqual({ services: ['old'], realServers: ['b', 'c'] });
  });

  it('adding never counts; the same sets are never a mass delete', () => {
    const arb = fc.dictionary(fc.string({ minLength: 1, maxLength: 3 }), fc.uniqueArray(fc.string({ maxLength: 3 }), { maxLength: 5 }));
    fc.assert(
      fc.property(arb, arb, (a, extra) => {
        const before = sets(a);
        expect(countMassDelete(before, before).exceeded).toBe(false);
        const grown = sets({ ...extra, ...Object.fromEntries(Object.entries(a).map(([k, v]) => [k, [...v, ...(extra[k] ?? [])]])) });
        const c = countMassDelete(before, grown);
        expect(c.services.removed + c.realServers.removed).toBe(0);
      }),
    );
  });
  it('one set that answers for every service (keys that name their service) counts as a set per service', () => {
    const arb = fc.dictionary(fc.string({ minLength: 1, maxLength: 3 }), fc.uniqueArray(fc.string({ maxLength: 3 }), { maxLength: 5 }));
    fc.assert(
      fc.property(arb, arb, (a, b) => {
        // Keys as the agent's guard names them: `service|server`; a service name here holds no `|`.
        const named = (o: Record<string, string[]>) =>
          Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/\|/g, ''), v.map((x) => `${k.replace(/\|/g, '')}|${x}`)]));
        const before = named(a);
        const after = named(b);
        const all = new Set(Object.values(after).flat());
        const asLists = new Map(Object.entries(before));
        const oneSet = new Map(Object.keys(after).map((k) => [k, all]));
        expect(countMassDelete(asLists, oneSet)).toEqual(countMassDelete(sets(before), sets(after)));
        expect(removedKeys(asLists, oneSet)).toEqual(removedKeys(sets(before), sets(after)));
      }),
    );
  });
});
