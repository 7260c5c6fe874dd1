/**
 * Golden tests: every case in fixtures/import/ (the seeds' configurations with their
 * mistakes, and one or more cases per block and keyword family) is imported and compared
 * with its expected.stderr (every warning and error, `FILE:LINE: …`) and, when the import
 * succeeds, expected.yaml (the site spec). `UPDATE_GOLDEN=1 npx vitest run …` rewrites them.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateSite } from '../site/validate.ts';
import { CASES, ROOT, runCase } from './import-cases.test-support.ts';

const UPDATE = process.env.UPDATE_GOLDEN === '1';

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
