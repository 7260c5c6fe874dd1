import type * as z from 'zod';
import { suggest } from '../util/did-you-mean.ts';
import { knownKeysAt } from './known-keys.ts';

/** One problem with an input, as the API and the CLI report it (docs/architecture.md, "Validation and errors"). */
export interface SpecIssue {
  path: string;
  message: string;
  /** 1-based line in the source text, when known. */
  line?: number;
}

/** `['spec','vrrp',0,'vrid']` → `spec.vrrp[0].vrid`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

/** zod's "no matching discriminator" issue carries the discriminator and its options (not in its declared type). */
const discriminated = (issue: object): issue is { discriminator: string; options: unknown[]; input?: unknown } =>
  'discriminator' in issue && typeof issue.discriminator === 'string' && 'options' in issue && Array.isArray(issue.options);

const quoteList = (values: readonly unknown[]) => values.map((v) => String(v)).join(', ');

/** `; did you mean "x"?` when `word` is a likely typo of one of `known`, else ''. */
function hint(word: unknown, known: readonly string[]): string {
  if (typeof word !== 'string') return '';
  const best = suggest(word, known);
  return best && best !== word ? `; did you mean "${best}"?` : '';
}

const unknownField = (key: string, known: readonly string[]) => `unknown field${hint(key, known)}`;

/** A value outside a closed set: `"wlcc" is not one of rr, wrr, …; did you mean "wlc"?`. */
function notOneOf(input: string, values: readonly string[]): string {
  if (values.length === 1) return `expected "${values[0]}", not "${input}"`;
  return `"${input}" is not one of ${quoteList(values)}${hint(input, values)}`;
}

/**
 * zod issues → SpecIssue[]; unknown keys get one issue each, at their own path. With the schema
 * (and issues made with `reportInput`), a misspelled field or value gets a "did you mean"
 * (`schedular` → `scheduler`, `wlcc` → `wlc`).
 */
export function fromZod(error: z.ZodError, prefix: readonly PropertyKey[] = [], schema?: z.ZodType): SpecIssue[] {
  const out: SpecIssue[] = [];
  for (const issue of error.issues) {
    const base = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const known = schema ? knownKeysAt(schema, issue.path) : [];
      for (const key of issue.keys) out.push({ path: formatPath([...base, key]), message: unknownField(key, known) });
    } else if (issue.code === 'invalid_value' && issue.values.every((v) => typeof v === 'string') && typeof issue.input === 'string') {
      out.push({ path: formatPath(base), message: notOneOf(issue.input, issue.values as string[]) });
    } else if (issue.code === 'invalid_union' && discriminated(issue)) {
      // A discriminated union (health checks by `type`): the value is the discriminator's.
      const input = issue.input as Record<string, unknown> | undefined;
      const value = input && typeof input === 'object' ? input[issue.discriminator] : undefined;
      const options = issue.options.map(String);
      out.push({ path: formatPath(base), message: typeof value === 'string' ? notOneOf(value, options) : `required: one of ${quoteList(options)}` });
    } else {
      out.push({ path: formatPath(base), message: issue.message });
    }
  }
  return out;
}

export function formatIssues(issues: readonly SpecIssue[]): string {
  return issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('\n');
}

/** Pushes an issue for every name seen twice in `items`. */
export function uniqueNames(items: readonly { name: string }[] | undefined, base: string, what: string, out: SpecIssue[]): void {
  const seen = new Map<string, number>();
  (items ?? []).forEach((item, i) => {
    const first = seen.get(item.name);
    if (first !== undefined) out.push({ path: `${base}[${i}].name`, message: `duplicate ${what} name "${item.name}" (also at ${base}[${first}])` });
    else seen.set(item.name, i);
  });
}
