/**
 * JSON with object keys sorted at every level, so the same value always gives the same bytes
 * (the compiler's "same spec → byte-identical configs", and signatures over configs).
 * Plain JSON values only: a Date, Map or class instance is serialised by its own enumerable keys.
 *
 * JSON.stringify of a key-sorted copy, where the copy is made only of the objects whose keys are
 * out of order (and of what holds them): V8's serialiser is many times faster than one written in
 * JavaScript, and its text is one flat string. The earlier writer in JavaScript built a rope of
 * small pieces: a 10,000-node site's director config (3.5 MB) took it 110-160 ms, and hashing
 * that rope another 40 ms to flatten it; the copy and JSON.stringify take 60-80 ms, the hash 2.
 * The bytes are exactly those of JSON.stringify(sortKeys(value)) (the tests hold it to that).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value !== null && typeof value === 'object' ? sortedCopy(value) : value);
}

const isPlainProto = (p: unknown) => p === Object.prototype || p === null;

/**
 * `value` with its keys in sorted order at every level: the value itself where that is already
 * so. JSON.stringify enumerates an object's own keys in insertion order, except that array-index
 * keys come first in numeric order: exactly the order of an object built from the sorted keys.
 * Anything but a plain object or array (a Date, Map, boxed value, an own toJSON) is copied, as
 * the reference copy does, so JSON.stringify sees the copy's own keys and not its toJSON.
 */
function sortedCopy(value: object): object {
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (v === null || typeof v !== 'object') continue;
      const s = sortedCopy(v);
      if (s !== v) (out ??= value.slice())[i] = s;
    }
    // A hole stays a hole (JSON writes null for it, as for the reference's map over the array).
    return Object.getPrototypeOf(value) === Array.prototype ? (out ?? value) : (out ?? value.slice());
  }
  const keys = Object.keys(value);
  let inOrder = true;
  for (let i = 1; inOrder && i < keys.length; i++) inOrder = keys[i - 1] < keys[i];
  if (!inOrder) keys.sort();
  let same = inOrder && isPlainProto(Object.getPrototypeOf(value)) && !Object.prototype.hasOwnProperty.call(value, 'toJSON');
  const record = value as Record<string, unknown>;
  let children: unknown[] | null = null;
  for (let i = 0; i < keys.length; i++) {
    const v = record[keys[i]];
    if (v === null || typeof v !== 'object') continue;
    const s = sortedCopy(v);
    if (s !== v) {
      (children ??= [])[i] = s;
      same = false;
    }
  }
  if (same) return value;
  const out: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const v = children?.[i] ?? record[k];
    // Like the reference's Object.fromEntries: an own "__proto__" member is data, never the prototype.
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else if (v !== undefined) out[k] = v;
  }
  return out;
}
