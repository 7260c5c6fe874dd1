import { describe, expect, it } from 'vitest';
import { compileSite } from '#shared/compiler/compile.ts';
import type { NodeConfig } from '#shared/config/node-config.ts';
import { parseSite } from '#shared/site/parse.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import { bigSiteSpec } from '../../bench/big-site.ts';
import { CompileMemo } from '#shared/compiler/compile-memo.ts';
import { ConfigHashMemo, configCanonicalJson, configUtf8Bytes, hashedConfigText, sha256Hex } from './config-hashes.ts';

const compiled = (n: number, opts: Parameters<typeof bigSiteSpec>[2] = {}) => {
  const parsed = parseSite(JSON.stringify(bigSiteSpec('memo', n, opts)), { format: 'json' });
  if (!parsed.ok) throw new Error('the bench site is invalid');
  return compileSite(parsed.site);
};
/** What every hash must be: the hex SHA-256 of the config's canonical JSON. */
const canonicalHashes = (configs: ReadonlyMap<string, NodeConfig>) => new Map([...configs].map(([n, c]) => [n, sha256Hex(canonicalJson(c))]));

describe('ConfigHashMemo', () => {
  it('hashes every config canonically, and serialises again only the configs that changed since the site was last hashed', () => {
    const memo = new ConfigHashMemo();
    const first = compiled(30);
    const a = memo.hash('org\nmemo', first);
    expect(a.hashes).toEqual(canonicalHashes(first));
    expect([...a.texts]).toEqual([...first].map(([n, c]) => [n, canonicalJson(c)]));

    // The same spec compiled again: new objects, the same values.
    const again = memo.hash('org\nmemo', compiled(30));
    expect(again.hashes).toEqual(a.hashes);
    expect(again.texts.size).toBe(0);

    // One real server's weight: only the directors' configs list it.
    const weighted = compiled(30, { rs1Weight: 7 });
    const b = memo.hash('org\nmemo', weighted);
    expect(b.hashes).toEqual(canonicalHashes(weighted));
    expect([...b.texts.keys()]).toEqual(['dr1', 'dr2']);
    expect(b.texts.get('dr1')).toBe(canonicalJson(weighted.get('dr1')));
    expect(b.hashes.get('dr1')).not.toBe(a.hashes.get('dr1'));

    // Another site's memory is its own: the same configs under another key are all serialised.
    expect(memo.hash('org\nother', weighted).texts.size).toBe(30);
  });

  it('knows a config equal in value but built with its keys in another order, and serialises one changed deep inside', () => {
    const memo = new ConfigHashMemo();
    const configs = compiled(5);
    memo.hash('k', configs);
    const rs1 = configs.get('rs1')!;
    const reordered = new Map(configs).set('rs1', Object.fromEntries(Object.entries(rs1).reverse()) as unknown as NodeConfig);
    const out = memo.hash('k', reordered);
    expect(out.texts.size).toBe(0);
    expect(out.hashes.get('rs1')).toBe(sha256Hex(canonicalJson(rs1)));

    const dr1 = structuredClone(configs.get('dr1')!);
    dr1.services[0].realServers[0].weight += 1;
    const changed = memo.hash('k', new Map(configs).set('dr1', dr1));
    expect([...changed.texts.keys()]).toEqual(['dr1']);
    expect(changed.hashes.get('dr1')).toBe(sha256Hex(canonicalJson(dr1)));
    expect(changed.hashes.get('dr1')).not.toBe(out.hashes.get('dr1'));
  });

  it('holds at most maxBytes of sites, the least recently hashed out first, and a site larger than the bound not at all', () => {
    const one = compiled(10);
    const size = [...one.values()].reduce((n, c) => n + JSON.stringify(c).length, 0);
    const memo = new ConfigHashMemo(2 * size + 1);
    memo.hash('a', one);
    memo.hash('b', one);
    expect(memo.heldBytes).toBe(2 * size);
    memo.hash('a', one); // a is now the most recent
    memo.hash('c', one); // b goes
    expect(memo.heldBytes).toBe(2 * size);
    expect(memo.hash('a', one).texts.size).toBe(0);
    expect(memo.hash('b', one).texts.size).toBe(10);

    const small = new ConfigHashMemo(size - 1);
    small.hash('a', one);
    expect(small.heldBytes).toBe(0);
    expect(small.hash('a', one).texts.size).toBe(10);
  });
});

describe('configCanonicalJson', () => {
  it("writes canonicalJson's text, for configs whose services a CompileMemo shares between directors and between compiles", () => {
    const memo = new CompileMemo();
    const site = (opts: Parameters<typeof bigSiteSpec>[2]) => {
      const parsed = parseSite(JSON.stringify(bigSiteSpec('texts', 600, opts)), { format: 'json' });
      if (!parsed.ok) throw new Error('the bench site is invalid');
      return parsed.site;
    };
    for (const opts of [{}, { rs1Weight: 9 }, { rs1Weight: 9, vipBase: 20 }, {}]) {
      const configs = compileSite(site(opts), memo);
      expect(configs.get('dr1')!.services[1]).toBe(configs.get('dr2')!.services[1]);
      for (const [node, config] of configs) {
        const text = canonicalJson(config);
        expect(configCanonicalJson(config), node).toBe(text);
        // Hashed part by part: the digest of the whole text all the same.
        expect(hashedConfigText(config), node).toEqual({ text, hash: sha256Hex(text) });
      }
    }
  });

  it('writes members in canonical order, leaves out undefined ones, and writes a config without services whole', () => {
    const [dr1, rs1] = [compiled(5).get('dr1')!, compiled(5).get('rs1')!];
    // Members in another order (keys reversed), and one undefined: as JSON, the same config.
    const shuffled = Object.fromEntries([...Object.entries(dr1).reverse(), ['absent', undefined]]) as unknown as NodeConfig;
    expect(Object.keys(shuffled)[0]).toBe('vrrp');
    expect(configCanonicalJson(shuffled)).toBe(canonicalJson(dr1));
    expect(configCanonicalJson(rs1)).toBe(canonicalJson(rs1));
    expect(configCanonicalJson({ ...dr1, services: [] })).toBe(canonicalJson({ ...dr1, services: [] }));
    // A member outside ASCII: its bytes are not its characters.
    const accented = { ...dr1, note: 'é€' } as unknown as NodeConfig;
    for (const config of [shuffled, rs1, { ...dr1, services: [] }, accented]) {
      const text = canonicalJson(config);
      expect(hashedConfigText(config)).toEqual({ text, hash: sha256Hex(text) });
      expect(configUtf8Bytes(config)).toBe(Buffer.byteLength(text, 'utf8'));
    }
    expect(configUtf8Bytes(accented)).toBe(canonicalJson(accented).length + 1 + 2);
  });
});
