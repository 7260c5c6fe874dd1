/**
 * JSON with object keys sorted at every level, so the same value always gives the same bytes
 * (the compiler's "same spec → byte-identical configs", and signatures over configs).
 * Plain JSON values only: a Date, Map or class instance is serialised by its own enumerable keys.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
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
