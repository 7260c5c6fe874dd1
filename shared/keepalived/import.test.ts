/**
 * Golden tests: every case in fixtures/import/ (the seeds' configurations with their
 * mistakes, and one or more cases per block and keyword family) is imported and compared
 * with its expected.stderr (every warning and error, `FILE:LINE: …`) and, when the import
 * succeeds, expected.yaml (the site spec). `UPDATE_GOLDEN=1 npx vitest run …` rewrites them.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { globFiles } from '../../cloud/src/cli/commands/fs-source.ts';
import { validateSite } from '../site/validate.ts';
import { formatDiagnostic } from './diagnostics.ts';
import { importKeepalived } from './import.ts';
import type { FileSource } from './lexer.ts';

const ROOT = resolve(import.meta.dirname, 'fixtures/import');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** Reads fixture files relative to the case directory, so golden messages name short paths. */
export function caseSource(dir: string): FileSource {
  return {
    read: (p) => readFileSync(resolve(dir, p), 'utf8'),
    glob: (pattern) => globFiles(resolve(dir, pattern)).map((f) => relative(dir, f)),
  };
}

export interface CaseArgs {
  site?: string;
  addresses?: Record<string, string>;
  realserversAsNodes?: boolean;
  /** import --strict */
  strict?: boolean;
  /** import --config-id */
  configId?: string;
}

export function runCase(name: string): { stderr: string; yaml: string | null; ok: boolean } {
  const dir = join(ROOT, name);
  const args: CaseArgs = existsSync(join(dir, 'args.json')) ? JSON.parse(readFileSync(join(dir, 'args.json'), 'utf8')) : {};
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.conf'))
    .sort();
  const r = importKeepalived(files, caseSource(dir), {
    site: args.site ?? 'imported',
    addresses: args.addresses,
    realserversAsNodes: args.realserversAsNodes,
    strict: args.strict,
    configId: args.configId,
  });
  const stderr = r.diagnostics.map((d) => `${formatDiagnostic(d)}\n`).join('');
  return { stderr, yaml: r.site ? stringify(r.site, { lineWidth: 0 }) : null, ok: !!r.site };
}

export const CASES = readdirSync(ROOT)
  .filter((d) => !d.startsWith('.'))
  .sort();

describe('keepalived import fixtures', () => {
  it('has the seeds and at least 20 more cases', () => {
    expect(CASES.filter((c) => c.startsWith('seed-')).length).toBeGreaterThanOrEqual(7);
    expect(CASES.filter((c) => !c.startsWith('seed-')).length).toBeGreaterThanOrEqual(20);
  });

  for (const name of CASES) {
    it(name, () => {
      const dir = join(ROOT, name);
      const got = runCase(name);
      if (UPDATE) {
        writeFileSync(join(dir, 'expected.stderr'), got.stderr);
        if (got.yaml) writeFileSync(join(dir, 'expected.yaml'), got.yaml);
      }
      expect(got.stderr).toBe(readFileSync(join(dir, 'expected.stderr'), 'utf8'));
      const yamlPath = join(dir, 'expected.yaml');
      if (got.yaml === null) {
        expect(existsSync(yamlPath), 'a failing import has no expected.yaml').toBe(false);
        expect(got.stderr).toMatch(/^[^:]+(:\d+)?: (?!warning)/m); // at least one error line
      } else {
        expect(got.yaml).toBe(readFileSync(yamlPath, 'utf8'));
        expect(validateSite(parse(got.yaml)).ok).toBe(true);
      }
    });
  }
});
