import { describe, expect, it } from 'vitest';
import { loadOrder, ModuleOrderError, normalizeModName, parseModinfo, type ModInfo } from './module-order.ts';

const tree: Record<string, ModInfo> = {
  ip_vs_rr: { depends: ['ip_vs'], softPre: [] },
  ip_vs: { depends: ['nf_conntrack', 'nf_defrag_ipv6', 'libcrc32c'], softPre: [] },
  nf_conntrack: { depends: ['nf_defrag_ipv4', 'nf_defrag_ipv6', 'libcrc32c'], softPre: [] },
  nf_defrag_ipv4: { depends: [], softPre: [] },
  nf_defrag_ipv6: { depends: [], softPre: [] },
  libcrc32c: { depends: [], softPre: ['crc32c', 'crc32c_generic'] },
  crc32c_generic: { depends: [], softPre: [] },
  bridge: { depends: ['stp', 'llc'], softPre: [] },
  stp: { depends: ['llc'], softPre: [] },
  llc: { depends: [], softPre: [] },
};

describe('parseModinfo', () => {
  it('reads depends and the pre: part of softdep from NUL-separated fields', () => {
    const raw = 'license=GPL\0depends=nf_conntrack,nf_defrag-ipv6\0softdep=pre: crc32c post: foo\0name=x\0';
    expect(parseModinfo(raw)).toEqual({ depends: ['nf_conntrack', 'nf_defrag_ipv6'], softPre: ['crc32c'] });
  });
  it('treats an empty depends= as no dependencies', () => {
    expect(parseModinfo(Buffer.from('depends=\0vermagic=6.1\0'))).toEqual({ depends: [], softPre: [] });
  });
});

describe('loadOrder', () => {
  it('puts every dependency before its user and each module once', () => {
    const order = loadOrder(['ip_vs_rr', 'bridge'], (n) => tree[n]);
    expect(order).toEqual(['nf_defrag_ipv4', 'nf_defrag_ipv6', 'crc32c_generic', 'libcrc32c', 'nf_conntrack', 'ip_vs', 'ip_vs_rr', 'llc', 'stp', 'bridge']);
    for (const [i, m] of order.entries()) for (const d of tree[m].depends) expect(order.indexOf(d)).toBeLessThan(i);
  });
  it('skips soft dependencies that are not in the tree but fails on missing hard ones', () => {
    expect(() => loadOrder(['ghost'], (n) => tree[n])).toThrow(ModuleOrderError);
    expect(() => loadOrder(['x'], (n) => (n === 'x' ? { depends: ['ghost'], softPre: [] } : undefined))).toThrow(/ghost not found \(needed by x\)/);
  });
  it('reports a cycle instead of looping', () => {
    const cyc: Record<string, ModInfo> = { a: { depends: ['b'], softPre: [] }, b: { depends: ['a'], softPre: [] } };
    expect(() => loadOrder(['a'], (n) => cyc[n])).toThrow(/cycle: a → b → a/);
  });
  it('normalizes dashes and file suffixes', () => {
    expect(normalizeModName('nf-defrag-ipv4.ko.xz')).toBe('nf_defrag_ipv4');
  });
});
