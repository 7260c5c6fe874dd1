/**
 * Field-level differences between two JSON values, the way `lvsfleet diff` and the dashboard's
 * revision diff show them: `scheduler: wlc → rr`, `realServers.rs2:80.weight: 2 → 5`. Pure.
 */
import { formatHostPort } from './ip.ts';
import { jsonEqual } from './json-equal.ts';

/** One changed leaf: `before` absent means added, `after` absent means removed. */
export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

/** Keys whose values are never shown, only that they changed (VRRP PASS passwords). */
const SECRET_KEYS = new Set(['password']);
const HIDDEN = '********';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The key a list item is known by: its `name`, else its `node` (VRRP members, real servers) with its port, else its address with its port. */
function keyOf(item: unknown): string | null {
  if (!isObject(item)) return null;
  if (typeof item.name === 'string') return item.name;
  const port = typeof item.port === 'number' ? `:${item.port}` : '';
  if (typeof item.node === 'string') return `${item.node}${port}`;
  if (typeof item.address === 'string') return typeof item.port === 'number' ? formatHostPort(item.address, item.port) : item.address;
  return null;
}

/** Lists whose items all have distinct keys are matched by key (`services.web`, `realServers.rs2:80`): an insertion is one added item, not every later one changed. */
function keyedItems(a: readonly unknown[]): Map<string, unknown> | null {
  const m = new Map<string, unknown>();
  for (const x of a) {
    const k = keyOf(x);
    if (k === null || m.has(k)) return null;
    m.set(k, x);
  }
  return m;
}

const join = (base: string, key: string) => (base ? `${base}.${key}` : key);
const SIMPLE_KEY = /^[A-Za-z_$][\w$:-]*$/;
const keyPath = (base: string, key: string) => (SIMPLE_KEY.test(key) ? join(base, key) : `${base}[${JSON.stringify(key)}]`);

/** `v` with every secret inside it masked (an added or removed object is shown whole). */
function masked(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(masked);
  if (!isObject(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRET_KEYS.has(k) && x !== undefined ? HIDDEN : masked(x)]));
}

/** Whether Object.keys(o) lists k. */
const isKeyOf = (o: object, k: string) => Object.prototype.propertyIsEnumerable.call(o, k);
const hide = (v: unknown, secret: boolean) => (secret && v !== undefined ? HIDDEN : masked(v));

/**
 * Walks into a member only when it differs as JSON: an apply diffs every node's config and spec
 * object, most of them equal, and a path string built for each equal leaf was most of the work.
 */
function walk(a: unknown, b: unknown, path: string, secret: boolean, out: FieldChange[]): void {
  const into = (x: unknown, y: unknown, p: () => string, s: boolean) => {
    if (!jsonEqual(x, y)) walk(x, y, p(), s, out);
  };
  if (isObject(a) && isObject(b)) {
    // b's keys in order, then those only a has: the order the changes are listed in. The new
    // value leads because it comes from validation (schema order) on every path, while the old
    // one may come from memory or from jsonb (which reorders keys); the answer must not depend on which.
    for (const k of Object.keys(b)) into(a[k], b[k], () => keyPath(path, k), secret || SECRET_KEYS.has(k));
    for (const k of Object.keys(a)) if (!isKeyOf(b, k)) into(a[k], b[k], () => keyPath(path, k), secret || SECRET_KEYS.has(k));
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const na = keyedItems(a);
    const nb = keyedItems(b);
    if (na && nb && (na.size || nb.size)) {
      const names = [...new Set([...na.keys(), ...nb.keys()])];
      for (const n of names) into(na.get(n), nb.get(n), () => keyPath(path, n), secret);
      return;
    }
    // Lists of plain values (addresses, event types) read best whole.
    if (![...a, ...b].some((x) => isObject(x) || Array.isArray(x))) {
      if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ path, before: hide(a, secret), after: hide(b, secret) });
      return;
    }
    for (let i = 0; i < Math.max(a.length, b.length); i++) into(a[i], b[i], () => `${path}[${i}]`, secret);
    return;
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const change: FieldChange = { path };
  if (a !== undefined) change.before = hide(a, secret);
  if (b !== undefined) change.after = hide(b, secret);
  out.push(change);
}

/** Every changed leaf between `before` and `after`, in document order; a secret's values are masked. */
export function fieldChanges(before: unknown, after: unknown): FieldChange[] {
  const out: FieldChange[] = [];
  if (!jsonEqual(before, after)) walk(before, after, '', false, out);
  return out;
}

/** A value in one line: strings bare, the rest as compact JSON. */
function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** `path: before → after`, `path: + after` (added) or `path: - before` (removed). */
export function formatFieldChange(c: FieldChange): string {
  if (!('before' in c)) return `${c.path}: + ${show(c.after)}`;
  if (!('after' in c)) return `${c.path}: - ${show(c.before)}`;
  return `${c.path}: ${show(c.before)} → ${show(c.after)}`;
}
