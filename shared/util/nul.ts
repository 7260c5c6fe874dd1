/**
 * The path (`a.b[0].c`) of the first string in `value`, member name or value, that holds U+0000;
 * '' for the value itself; null when none does. PostgreSQL's text and jsonb cannot store U+0000,
 * so input that is stored is refused with this path before it reaches the database. Pure.
 */
export function nulPath(value: unknown): string | null {
  const steps = nulSteps(value);
  if (steps === null) return null;
  let path = '';
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i];
    path += typeof s === 'number' ? `[${s}]` : path ? `.${s}` : s;
  }
  return path;
}

/**
 * The steps to the first string holding U+0000, innermost first; null when none does. The path is
 * written only once one is found: every spec an apply takes is walked, and writing a path string
 * for each of its members cost about 9 ms at 10,000 nodes.
 */
function nulSteps(value: unknown): (string | number)[] | null {
  if (typeof value === 'string') return value.includes('\0') ? [] : null;
  if (typeof value !== 'object' || value === null) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulSteps(value[i]);
      if (found === null) continue;
      found.push(i);
      return found;
    }
    return null;
  }
  for (const k in value) {
    if (!Object.prototype.hasOwnProperty.call(value, k)) continue;
    if (k.includes('\0')) return [k];
    const found = nulSteps((value as Record<string, unknown>)[k]);
    if (found === null) continue;
    found.push(k);
    return found;
  }
  return null;
}
