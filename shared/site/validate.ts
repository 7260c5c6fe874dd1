import { Site } from './site.ts';
import { nulPath } from '../util/nul.ts';
import { fromZod, type SpecIssue } from './issues.ts';
import { semanticIssues } from './semantic.ts';

export type ValidationResult = { ok: true; site: Site } | { ok: false; issues: SpecIssue[] };

export interface ValidateOptions {
  /**
   * Let zod compile its fast path (new Function) for the schema at the first parse. For a process
   * that validates many specs, the API server: at 1,000 nodes a parse takes 1.6-1.9 ms of CPU
   * compiled against 3.5-4.8 jitless, at 10,000 nodes 18-22 against 42-43. Where code cannot be
   * generated (workerd), zod finds so and stays jitless.
   */
  jit?: boolean;
}

/**
 * Validates a site object: shape first (zod, unknown fields are errors), then meaning
 * (docs/architecture.md, "Validation and errors"). Semantic rules run only on a well-shaped spec.
 */
export function validateSite(input: unknown, opts: ValidateOptions = {}): ValidationResult {
  // A site is stored (jsonb), and PostgreSQL's text and jsonb cannot hold U+0000.
  const nul = nulPath(input);
  if (nul !== null) return { ok: false, issues: [{ path: nul, message: 'holds U+0000, which cannot be stored' }] };
  // jitless by default: zod would otherwise compile a fast path (new Function) for every object
  // schema on its first parse; the CLI parses a spec once per run, so compiling costs more than it
  // saves (about 10 ms of every `lvsfleet validate|diff|apply|export --spec`).
  const parsed = Site.safeParse(input, { reportInput: true, jitless: !opts.jit });
  if (!parsed.success) return { ok: false, issues: fromZod(parsed.error, [], Site) };
  const issues = semanticIssues(parsed.data);
  return issues.length ? { ok: false, issues } : { ok: true, site: parsed.data };
}
