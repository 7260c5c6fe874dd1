import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.ts';

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('drops undefined members like JSON.stringify', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson([undefined, 1])).toBe('[null,1]');
  });

  it('handles scalars, empty containers and unicode', () => {
    expect(canonicalJson('x')).toBe('"x"');
    expect(canonicalJson(1.5)).toBe('1.5');
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({ é: '密码', e: 1 })).toBe('{"e":1,"é":"密码"}');
  });

  it('keeps a "__proto__" key as data', () => {
    expect(canonicalJson(JSON.parse('{"b":2,"__proto__":{"a":1}}'))).toBe('{"__proto__":{"a":1},"b":2}');
  });

  it('gives the same bytes for any key order and parses back to an equal value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const reversed = JSON.parse(JSON.stringify(value), function (_k, v) {
          return v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v;
        });
        expect(canonicalJson(reversed)).toBe(canonicalJson(value));
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('writes exactly the bytes of JSON.stringify over a key-sorted copy, for any value', () => {
    const sortKeys = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(sortKeys);
      if (value && typeof value === 'object')
        return Object.fromEntries(
          Object.keys(value)
            .sort()
            .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
            .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
        );
      return value;
    };
    const reference = (v: unknown) => JSON.stringify(sortKeys(v));
    const odd = fc.constantFrom(undefined, () => 1, Symbol('s'), -0, NaN, Infinity, new Date(0), new Map([[1, 2]]), '\u2028"\\');
    const values = fc.anything({
      withDate: true,
      withMap: true,
      withSet: true,
      withBoxedValues: true,
      withNullPrototype: true,
      withSparseArray: true,
      values: [fc.jsonValue(), odd],
    });
    fc.assert(
      fc.property(values, (v) => {
        expect(canonicalJson(v)).toBe(reference(v));
      }),
      { numRuns: 500 },
    );
    const indexKeys = { b: 1, '10': 1, '2': [{ '1': 0, a: 0 }], '': 0, '01': 1, '4294967295': 1, '4294967294': 1 };
    expect(canonicalJson(indexKeys)).toBe(reference(indexKeys));
    expect(canonicalJson({ b: 1, a: { toJSON: () => 'x' } })).toBe(reference({ b: 1, a: { toJSON: () => 'x' } }));
  });
});
