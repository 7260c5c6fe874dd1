/**
 * The path (`a.b[0].c`) of the first string in `value`, member name or value, that holds U+0000;
 * '' for the value itself; null when none does. PostgreSQL's text and jsonb cannot store U+0000,
 * so input that is stored is refused with this path before it reaches the database. Pure.
 */
export function nulPath(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return value.includes('\0') ? path : null;
  if (typeof value !== 'object' || value === null) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulPath(value[i], `${path}[${i}]`);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value)) {
    const at = path ? `${path}.${k}` : k;
    if (k.includes('\0')) return at;
    const found = nulPath(v, at);
    if (found !== null) return found;
  }
  return null;
}
