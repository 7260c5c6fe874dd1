import { describe, expect, it } from 'vitest';
import { compileSite } from '#shared/compiler/compile.ts';
import { parseSite } from '#shared/site/parse.ts';
import type { Site } from '#shared/site/site.ts';
import { bigSiteSpec } from '../../bench/big-site.ts';
import { CompileMemos } from './compile-memos.ts';

const site = (name: string, n: number, rs1Weight = 1): Site => {
  const parsed = parseSite(JSON.stringify(bigSiteSpec(name, n, { rs1Weight })), { format: 'json' });
  if (!parsed.ok) throw new Error('the bench site is invalid');
  return parsed.site;
};

describe('CompileMemos', () => {
  it("compiles each site as compileSite does, reusing that site's last services and no other site's", () => {
    const memos = new CompileMemos();
    const a1 = memos.compile('org\na', site('a', 12));
    const b1 = memos.compile('org\nb', site('a', 12));
    const a2 = memos.compile('org\na', site('a', 12, 3));
    expect(a2).toEqual(compileSite(site('a', 12, 3)));
    expect(b1.get('dr1')!.services[0]).not.toBe(a1.get('dr1')!.services[0]);
    // rs1 is in the first service; the bench site's services hold 250 real servers, so 12 nodes make one.
    expect(a2.get('dr1')!.services[0]).not.toBe(a1.get('dr1')!.services[0]);
    expect(memos.compile('org\na', site('a', 12, 3)).get('dr2')!.services[0]).toBe(a2.get('dr2')!.services[0]);
  });

  it('holds at most maxRealServers, the least recently compiled site out first, and always the site just compiled', () => {
    // A 12-node site holds 20: its 10 real servers in its one service and as nodes.
    const memos = new CompileMemos(50);
    memos.compile('org\na', site('a', 12));
    memos.compile('org\nb', site('b', 12));
    expect(memos.size).toBe(2);
    memos.compile('org\nc', site('c', 12)); // 60 held: a goes
    expect(memos.size).toBe(2);
    const again = memos.compile('org\nb', site('b', 12));
    expect(memos.compile('org\nb', site('b', 12)).get('dr1')!.services[0]).toBe(again.get('dr1')!.services[0]);
    memos.compile('org\nbig', site('big', 40)); // 76 alone, over the bound: kept, every other site out
    expect(memos.size).toBe(1);
  });
});
