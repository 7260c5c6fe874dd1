import type { z } from 'zod';

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

/** zod issues → SpecIssue[]; unknown keys get one issue each, at their own path. */
export function fromZod(error: z.ZodError, prefix: readonly PropertyKey[] = []): SpecIssue[] {
  const out: SpecIssue[] = [];
  for (const issue of error.issues) {
    const base = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: formatPath([...base, key]), message: 'unknown field' });
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
