/**
 * The golden import cases of fixtures/import/: one directory per case with its .conf files, an
 * optional args.json (import options) and the expected output. Used by import.test.ts and by
 * the differential lab test.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { stringify } from 'yaml';
import { globFiles } from '../../cloud/src/cli/commands/fs-source.ts';
import { formatDiagnostic } from './diagnostics.ts';
import { importKeepalived } from './import.ts';
import type { FileSource } from './lexer.ts';

export const ROOT = resolve(import.meta.dirname, 'fixtures/import');

/** Reads fixture files relative to the case directory, so golden messages name short paths. */
function caseSource(dir: string): FileSource {
  return {
    read: (p) => readFileSync(resolve(dir, p), 'utf8'),
    glob: (pattern) => globFiles(resolve(dir, pattern)).map((f) => relative(dir, f)),
  };
}

interface CaseArgs {
  site?: string;
  addresses?: Record<string, string>;
  realserversAsNodes?: boolean;
  /** import --strict */
  strict?: boolean;
  /** import --config-id (and keepalived -i) */
  configId?: string;
}

export function caseArgs(name: string): CaseArgs {
  const file = join(ROOT, name, 'args.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as CaseArgs) : {};
}

/** The case's director files, in the order they are imported. */
export function caseFiles(name: string): string[] {
  return readdirSync(join(ROOT, name))
    .filter((f) => f.endsWith('.conf'))
    .sort();
}

export function runCase(name: string): { stderr: string; yaml: string | null; ok: boolean } {
  const args = caseArgs(name);
  const r = importKeepalived(caseFiles(name), caseSource(join(ROOT, name)), {
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
