import type { Site } from '../site/site.ts';
import { validateSite } from '../site/validate.ts';
import { hasErrors, strictly, type Diagnostic } from './diagnostics.ts';
import type { FileSource, Token } from './lexer.ts';
import { mapFile } from './map-file.ts';
import { mergeFiles, type MergeOptions } from './merge.ts';
import { parseFile } from './parser.ts';

export interface ImportOptions extends MergeOptions {
  /** `--strict`: refuse what keepalived tolerates (the lenient warnings become errors). */
  strict?: boolean;
  /** `--config-id`: keepalived's `-i`, which picks the `@ID` conditional lines. */
  configId?: string;
}

export interface ImportResult {
  /** Present only when there is no error: a site that validateSite accepts. */
  site?: Site;
  diagnostics: Diagnostic[];
}

/**
 * `lvsfleet import keepalived FILE…`: parses each director's keepalived.conf (with its
 * includes, read through `source`), maps it and merges them into one validated site spec.
 * Any error (syntax, misspelling, an unmappable value, a spec rule) means no site.
 */
export function importKeepalived(files: string[], source: FileSource, opts: ImportOptions): ImportResult {
  const result = importUnsorted(files, source, opts);
  // Report in reading order: by file as given, then by line.
  const rank = (f: string) => (files.indexOf(f) < 0 ? files.length : files.indexOf(f));
  result.diagnostics = result.diagnostics
    .map((d, i) => ({ d, i }))
    .sort((a, b) => rank(a.d.file) - rank(b.d.file) || a.d.file.localeCompare(b.d.file) || a.d.line - b.d.line || a.i - b.i)
    .map(({ d }) => d);
  return result;
}

function importUnsorted(files: string[], source: FileSource, opts: ImportOptions): ImportResult {
  let diagnostics: Diagnostic[] = [];
  const mapped = files.map((file) => {
    const parsed = parseFile(file, source, opts.configId);
    diagnostics.push(...parsed.diagnostics);
    return mapFile(file, parsed.statements, diagnostics);
  });
  if (opts.strict) diagnostics = strictly(diagnostics);
  if (hasErrors(diagnostics)) return { diagnostics };
  const where = new Map<string, Token>();
  const site = mergeFiles(mapped, opts, diagnostics, where);
  if (opts.strict) diagnostics = strictly(diagnostics);
  if (hasErrors(diagnostics)) return { diagnostics };
  const checked = validateSite(site);
  if (!checked.ok) {
    for (const i of checked.issues) {
      const at = where.get(/^spec\.(vrrp|services)\[\d+\]/.exec(i.path)?.[0] ?? '');
      diagnostics.push({
        severity: 'error',
        file: at?.file ?? files.join(','),
        line: at?.line ?? 0,
        message: `the imported spec is invalid: ${i.path}: ${i.message}`,
      });
    }
    return { diagnostics };
  }
  return { site: checked.site, diagnostics };
}
