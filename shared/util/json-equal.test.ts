import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.ts';
import { jsonEqual } from './json-equal.ts';

const sameText = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
/** The same value with every object's keys in reverse order. */
const reversed = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(reversed)
    : v !== null && typeof v === 'object'
      ? Object.fromEntries(
          Object.entries(v)
            .reverse()
            .map(([k, x]) => [k, reversed(x)]),
        )
      : v;

describe('jsonEqual', () => {
  it('is equality of canonical JSON for any two values', () => {
    const odd = fc.constantFrom(undefined, () => 1, Symbol('s'), -0, 0, NaN, Infinity, null, new Date(0), new Map([[1, 2]]), '\u2028"\\');
    const values = fc.anything({
      withDate: true,
      withMap: true,
      withBoxedValues: true,
      withNullPrototype: true,
      withSparseArray: true,
      values: [fc.jsonValue(), odd],
    });
    fc.assert(
      fc.property(values, values, (a, b) => {
        expect(jsonEqual(a, b)).toBe(sameText(a, b));
        expect(jsonEqual(a, reversed(a))).toBe(sameText(a, reversed(a)));
      }),
      { numRuns: 1000 },
    );
  });

  it('holds a value equal to its copy in another key order, and unequal once one leaf changes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (v, leaf) => {
        expect(jsonEqual(v, reversed(v))).toBe(true);
        const changed = { wrap: v, leaf };
        const other = { wrap: reversed(v), leaf: [leaf] };
        expect(jsonEqual(changed, other)).toBe(sameText(changed, other));
        expect(jsonEqual(changed, other)).toBe(false);
      }),
    );
  });

  it('follows JSON where it drops or rewrites members', () => {
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: () => 2 })).toBe(true);
    expect(jsonEqual([undefined], [null])).toBe(true);
    expect(jsonEqual([NaN], [null])).toBe(true);
    expect(jsonEqual(0, -0)).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: null })).toBe(false);
    expect(jsonEqual([1, 2], { 0: 1, 1: 2 })).toBe(false);
    expect(jsonEqual('1', 1)).toBe(false);
  });

  it('reads a "__proto__" key as data, never as the prototype', () => {
    const withProto = JSON.parse('{"__proto__":{}}');
    expect(jsonEqual(withProto, { x: {} })).toBe(false);
    expect(jsonEqual({ x: {} }, withProto)).toBe(false);
    expect(jsonEqual(withProto, JSON.parse('{"__proto__":{}}'))).toBe(true);
  });

  it('compares an object with toJSON by what it writes', () => {
    expect(jsonEqual({ t: new Date(0) }, { t: '1970-01-01T00:00:00.000Z' })).toBe(sameText({ t: new Date(0) }, { t: '1970-01-01T00:00:00.000Z' }));
  });
});
