/** One changed leaf between two documents: `services.web.scheduler: wlc → rr`. `before`/`after` are undefined when the field is added/removed. */
export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

type Json = unknown;

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The key a list item is known by: its `name`, else its `node` (VRRP members, real servers by node), else none. */
function keyOf(item: Json): string | null {
  if (!isObject(item)) return null;
  if (typeof item.name === 'string') return item.name;
  if (typeof item.node === 'string') return typeof item.port === 'number' ? `${item.node}:${item.port}` : item.node;
  if (typeof item.address === 'string') return typeof item.port === 'number' ? `${item.address}:${item.port}` : item.address;
  return null;
}

/** Lists whose every item has a key, and the keys are unique, are compared by key: an insertion is one added item, not every later one changed. */
function keyed(list: Json[]): Map<string, Json> | null {
  const m = new Map<string, Json>();
  for (const item of list) {
    const k = keyOf(item);
    if (k === null || m.has(k)) return null;
    m.set(k, item);
  }
  return m;
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

function walk(path: string, a: Json, b: Json, out: FieldChange[]): void {
  if (Array.isArray(a) && Array.isArray(b)) {
    const ka = keyed(a);
    const kb = keyed(b);
    if (ka && kb) {
      for (const [k, v] of ka) walk(join(path, k), v, kb.has(k) ? kb.get(k) : undefined, out);
      for (const [k, v] of kb) if (!ka.has(k)) out.push({ path: join(path, k), after: v });
      return;
    }
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) walk(`${path}[${i}]`, a[i], b[i], out);
    return;
  }
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) walk(join(path, k), a[k], b[k], out);
    return;
  }
  if (a === undefined && b === undefined) return;
  if (a === undefined) out.push({ path, after: b });
  else if (b === undefined) out.push({ path, before: a });
  else if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ path, before: a, after: b });
}

/**
 * The field-level difference between two JSON documents (two revisions of a site spec), in
 * document order: lists of named things (services, nodes, VRRP instances, real servers) are
 * matched by name, others by position. A whole object added or removed is one change.
 */
export function fieldDiff(before: Json, after: Json): FieldChange[] {
  const out: FieldChange[] = [];
  walk('', before, after, out);
  return out;
}
