import { describe, expect, it } from 'vitest';
import { nameList } from './name-list.ts';

describe('nameList', () => {
  it('names every one up to eight, as a plain join', () => {
    expect(nameList([])).toBe('');
    expect(nameList(['dr2'])).toBe('dr2');
    const eight = Array.from({ length: 8 }, (_, i) => `rs${i + 1}`);
    expect(nameList(eight)).toBe(eight.join(', '));
  });

  it('past the limit, the first ones and a count of the rest', () => {
    const all = Array.from({ length: 10_000 }, (_, i) => `rs${i + 1}`);
    expect(nameList(all)).toBe('rs1, rs2, rs3, rs4, rs5, rs6, rs7, rs8 and 9992 more');
    expect(nameList(['a', 'b', 'c'], 2)).toBe('a, b and 1 more');
  });
});
