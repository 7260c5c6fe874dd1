import { Site } from './site.ts';
import { nulPath } from '../util/nul.ts';
import { fromZod, type SpecIssue } from './issues.ts';
import { semanticIssues } from './semantic.ts';

export type ValidationResult = { ok: true; site: Site } | { ok: false; issues: SpecIssue[] };

/**
 * Validates a site object: shape first (zod, unknown fields are errors), then meaning
 * (docs/architecture.md, "Validation and errors"). Semantic rules run only on a well-shaped spec.
 */
export function validateSite(input: unknown): ValidationResult {
  // A site is stored (jsonb), and PostgreSQL's text and jsonb cannot hold U+0000.
  const nul = nulPath(input);
  if (nul !== null) return { ok: false, issues: [{ path: nul, message: 'holds U+0000, which cannot be stored' }] };
  // jitless: zod would otherwise compile a fast path (new Function) for every object schema on
  // its first parse; a spec is parsed once per CLI run and rarely in a server, so compiling costs
  // more than it saves (about 10 ms of every `lvsfleet validate|diff|apply|export --spec`).
  const parsed = Site.safeParse(input, { reportInput: true, jitless: true });
  if (!parsed.success) return { ok: false, issues: fromZod(parsed.error, [], Site) };
  const issues = semanticIssues(parsed.data);
  return issues.length ? { ok: false, issues } : { ok: true, site: parsed.data };
}
