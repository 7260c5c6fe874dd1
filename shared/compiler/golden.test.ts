import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSite } from '../site/parse.ts';
import { compileSite } from './compile.ts';

/**
 * Golden per-node configs for the examples. The files are reviewed by hand; regenerate with
 * `UPDATE_GOLDEN=1 npx vitest run shared/compiler/golden.test.ts` and read the diff.
 */
const examples = join(import.meta.dirname, '../../examples');
const golden = join(import.meta.dirname, 'golden');
const SITES = ['seeds-lvs-dr', 'seeds-nginx-vip', 'seeds-tcp-check', 'nat', 'tun', 'dual-master', 'vrrpv3-fast', 'bfd'];

/** Stable, readable JSON: keys sorted at every level, two-space indent. */
function pretty(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
          )
        : v;
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

describe.each(SITES)('golden configs of examples/%s.yaml', (site) => {
  const parsed = parseSite(readFileSync(join(examples, `${site}.yaml`), 'utf8'));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const configs = compileSite(parsed.site);

  it.each([...configs.keys()])('%s', (node) => {
    const file = join(golden, site, `${node}.json`);
    const text = pretty(configs.get(node));
    if (process.env.UPDATE_GOLDEN === '1') {
      mkdirSync(join(golden, site), { recursive: true });
      writeFileSync(file, text);
    }
    expect(existsSync(file), `${file} is missing; run with UPDATE_GOLDEN=1`).toBe(true);
    expect(text).toBe(readFileSync(file, 'utf8'));
  });
});
