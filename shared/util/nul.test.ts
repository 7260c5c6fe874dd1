import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nulPath } from './nul.ts';

describe('nulPath', () => {
  it('names the first string, member name or value, that holds U+0000', () => {
    expect(nulPath({ a: [1, { b: 'x\u0000' }] })).toBe('a[1].b');
    expect(nulPath({ a: { ['k\u0000']: 1 } })).toBe('a.k\u0000');
    expect(nulPath('\u0000')).toBe('');
    expect(nulPath({ a: 'x', b: [null, true, 2] })).toBeNull();
  });

  it('finds one in any JSON value exactly when its JSON text escapes one', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(nulPath(v) !== null).toBe(JSON.stringify(v).includes('\\u0000'));
      }),
    );
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), (v, s) => {
        const holder = { before: v, at: [`${s}\u0000`] };
        expect(nulPath(holder)).not.toBeNull();
      }),
    );
  });
});
