import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileSite } from '../compiler/compile.ts';
import { NodeConfig } from '../config/node-config.ts';
import { formatIssues } from './issues.ts';
import { parseSite } from './parse.ts';

const dir = join(import.meta.dirname, '../../examples');
const files = readdirSync(dir)
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .sort();

describe('examples/', () => {
  it('holds the seeds-derived examples', () => {
    for (const f of ['seeds-lvs-dr.yaml', 'seeds-nginx-vip.yaml', 'seeds-tcp-check.yaml', 'nat.yaml', 'tun.yaml', 'dual-master.yaml', 'vrrpv3-fast.yaml'])
      expect(files).toContain(f);
  });

  it.each(files)('%s validates and compiles to valid node configs', (file) => {
    const result = parseSite(readFileSync(join(dir, file), 'utf8'));
    if (!result.ok) throw new Error(`${file}:\n${formatIssues(result.issues)}`);
    const configs = compileSite(result.site);
    expect(configs.size).toBe(result.site.spec.nodes.length);
    for (const config of configs.values()) expect(NodeConfig.safeParse(config).success).toBe(true);
  });
});
