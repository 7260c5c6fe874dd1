/**
 * JSON with object keys sorted at every level, so the same value always gives the same bytes
 * (the compiler's "same spec → byte-identical configs", and signatures over configs).
 * Plain JSON values only: a Date, Map or class instance is serialised by its own enumerable keys.
 *
 * Written out directly rather than as JSON.stringify of a key-sorted copy: an apply serialises
 * every node's config (hash, diff, signature), and the copy doubled the work and the garbage.
 * The bytes are exactly those of JSON.stringify(sortKeys(value)) (the tests hold it to that).
 */
export function canonicalJson(value: unknown): string {
  return value !== null && typeof value === 'object' ? write(value) : JSON.stringify(value);
}

/** A member value JSON.stringify leaves out of an object (and writes as null in an array). */
const skipped = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/**
 * Member names as JSON strings, kept: a 1,000-node site's configs repeat a few dozen names
 * ~100,000 times. Bounded, since names can come from a spec (sysctl keys).
 */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_MAX = 4096;
function quoted(key: string): string {
  let q = quotedKeys.get(key);
  if (q === undefined) {
    q = JSON.stringify(key);
    if (quotedKeys.size < QUOTED_KEYS_MAX) quotedKeys.set(key, q);
  }
  return q;
}

/** A non-object value as JSON.stringify writes it; booleans and finite numbers without its call (the same text). */
const scalar = (v: unknown): string =>
  typeof v === 'boolean' ? (v ? 'true' : 'false') : typeof v === 'number' && Number.isFinite(v) ? String(v) : JSON.stringify(v);

function write(value: object): string {
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (i) out += ',';
      out += v !== null && typeof v === 'object' ? write(v) : skipped(v) ? 'null' : scalar(v);
    }
    return out + ']';
  }
  const keys = ordered(Object.keys(value));
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v: unknown = (value as Record<string, unknown>)[key];
    // A function under "toJSON" makes JSON.stringify call it: that rare case takes the old path.
    if (key === 'toJSON' && typeof v === 'function') return JSON.stringify(sortKeys(value));
    if (skipped(v)) continue;
    if (first) first = false;
    else out += ',';
    out += quoted(key) + ':' + (v !== null && typeof v === 'object' ? write(v) : scalar(v));
  }
  return out + '}';
}

/** An array index key: an object lists these first, in numeric order, whatever order they were added in. */
const isIndex = (k: string) => /^(?:0|[1-9]\d*)$/.test(k) && Number(k) < 4294967295;

/**
 * Keys in the order an object built from the sorted keys enumerates them (what JSON.stringify of a
 * sorted copy wrote, so hashes and signatures stay as they were): index keys ascending, then the rest sorted.
 */
function ordered(keys: string[]): string[] {
  keys.sort();
  let digit = false;
  for (let i = 0; i < keys.length && !digit; i++) digit = keys[i].charCodeAt(0) >= 48 && keys[i].charCodeAt(0) <= 57;
  if (!digit) return keys;
  const index = keys.filter(isIndex).sort((a, b) => Number(a) - Number(b));
  return index.length ? [...index, ...keys.filter((k) => !isIndex(k))] : keys;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    // Object.fromEntries defines own properties, so a "__proto__" key (legal in JSON) survives.
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
