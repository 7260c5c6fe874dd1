import { UsageError } from './args.ts';

/**
 * The JSONPath subset of `get -o jsonpath=EXPR` (RFC 9535 syntax): `$` the root, `.name` or
 * `['name']` a member, `[N]` an element (negative from the end), `[*]` or `.*` every member,
 * `..name` that member at any depth. kubectl's `{…}` braces around the expression are allowed.
 */
type Step = { kind: 'member'; name: string } | { kind: 'index'; index: number } | { kind: 'all' } | { kind: 'descend'; name: string };

/** Parses EXPR into steps; a UsageError says where it stops making sense. */
export function parseJsonPath(expr: string): Step[] {
  let e = expr.trim();
  if (e.startsWith('{') && e.endsWith('}')) e = e.slice(1, -1).trim();
  if (e.startsWith('$')) e = e.slice(1);
  const steps: Step[] = [];
  const bad = (at: number, why: string) => new UsageError(`jsonpath "${expr}": ${why} at "${e.slice(at)}"`);
  let i = 0;
  const name = () => {
    const m = /^[A-Za-z_][\w-]*/.exec(e.slice(i));
    if (!m) throw bad(i, 'expected a member name');
    i += m[0].length;
    return m[0];
  };
  while (i < e.length) {
    if (e.startsWith('..', i)) {
      i += 2;
      steps.push({ kind: 'descend', name: name() });
    } else if (e[i] === '.') {
      i++;
      if (e[i] === '*') {
        i++;
        steps.push({ kind: 'all' });
      } else steps.push({ kind: 'member', name: name() });
    } else if (e[i] === '[') {
      const close = e.indexOf(']', i);
      if (close < 0) throw bad(i, 'a "[" without "]"');
      const inner = e.slice(i + 1, close).trim();
      if (inner === '*') steps.push({ kind: 'all' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^'[^']*'$|^"[^"]*"$/.test(inner)) steps.push({ kind: 'member', name: inner.slice(1, -1) });
      else throw bad(i, "expected [N], [*] or ['name'] (filters and slices are not supported)");
      i = close + 1;
    } else if (i === 0 && /^[A-Za-z_]/.test(e)) steps.push({ kind: 'member', name: name() });
    else throw bad(i, 'expected ".", ".." or "["');
  }
  return steps;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function descend(v: unknown, key: string, out: unknown[]): void {
  if (!isObject(v)) return;
  if (!Array.isArray(v) && key in v) out.push(v[key]);
  for (const child of Object.values(v)) descend(child, key, out);
}

/** Every value `steps` select from `root`, in document order. Pure. */
export function selectJsonPath(root: unknown, steps: readonly Step[]): unknown[] {
  let nodes: unknown[] = [root];
  for (const s of steps) {
    const next: unknown[] = [];
    for (const v of nodes) {
      if (s.kind === 'member') {
        if (isObject(v) && !Array.isArray(v) && s.name in v) next.push(v[s.name]);
      } else if (s.kind === 'index') {
        if (Array.isArray(v)) {
          const at = s.index < 0 ? v.length + s.index : s.index;
          if (at >= 0 && at < v.length) next.push(v[at]);
        }
      } else if (s.kind === 'all') {
        if (isObject(v)) next.push(...Object.values(v));
      } else descend(v, s.name, next);
    }
    nodes = next;
  }
  return nodes;
}

/** What `-o jsonpath=` prints: one line per selected value, strings bare, the rest as JSON. */
export function formatSelected(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('\n') + (values.length ? '\n' : '');
}
