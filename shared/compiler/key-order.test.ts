import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../util/canonical-json.ts';
import { parseSite } from '../site/parse.ts';
import { baseDoc, dualStack } from '../site/site.test-support.ts';
import { validateSite } from '../site/validate.ts';
import type { Site } from '../site/site.ts';
import { compileSite } from './compile.ts';
import { keyOrdered } from './key-order.ts';

/** The paths of the objects in `value` whose own keys are not in code-unit order. */
function outOfOrder(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => outOfOrder(v, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  const keys = Object.keys(value);
  const here = keys.some((k, i) => i > 0 && keys[i - 1] >= k) ? [path || '(root)'] : [];
  return [...here, ...keys.flatMap((k) => outOfOrder((value as Record<string, unknown>)[k], `${path}.${k}`))];
}

const examples = join(import.meta.dirname, '../../examples');
const sites: [string, Site][] = readdirSync(examples)
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .sort()
  .map((f) => {
    const r = parseSite(readFileSync(join(examples, f), 'utf8'));
    if (!r.ok) throw new Error(`${f} does not validate`);
    return [f, r.site];
  });
const dual = baseDoc();
dualStack(dual);
for (const [name, doc] of [
  ['the base test site', baseDoc()],
  ['the base test site, dual stack', dual],
]) {
  const r = validateSite(doc);
  if (!r.ok) throw new Error(`${name} does not validate`);
  sites.push([name, r.site]);
}

describe('compiled configs are written in key order', () => {
  it.each(sites)('%s: every object the compiler writes has its keys in code-unit order, so canonical JSON is JSON.stringify', (_, site) => {
    for (const [name, config] of compileSite(site)) {
      // A check's own parameters are the spec's, handed through in the spec's order.
      expect(
        outOfOrder(config).filter((p) => !/\.healthCheck\.params(\.|$)/.test(p)),
        name,
      ).toEqual([]);
      if (!JSON.stringify(config).includes('"params":{"')) expect(JSON.stringify(config), name).toBe(canonicalJson(config));
    }
  });

  it('covers the parts of a config: VRRP, scripts, sync groups, BFD, NAT and TUN real servers, sorry servers, persistence, IPv6', () => {
    const all = sites.flatMap(([, s]) => [...compileSite(s).values()]);
    const text = JSON.stringify(all);
    for (const part of [
      '"instances":[{',
      '"scripts":[{',
      '"syncGroups":[{',
      '"bfd":[{',
      '"forwarding":"nat"',
      '"forwarding":"tun"',
      '"sorryServer":{',
      '"persistence":{',
      '"family":6',
      '"connectionSync":{',
    ])
      expect(text, part).toContain(part);
  });

  it('keyOrdered writes a record in code-unit order, upper case before lower', () => {
    expect(keyOrdered({ b: '1', a: '2', B: '3', 'a.b': '4' })).toEqual({ B: '3', a: '2', 'a.b': '4', b: '1' });
    expect(Object.keys(keyOrdered({ b: '1', a: '2', B: '3', 'a.b': '4' }))).toEqual(['B', 'a', 'a.b', 'b']);
    const ordered = { a: '1', b: '2' };
    expect(keyOrdered(ordered)).toBe(ordered);
  });
});
