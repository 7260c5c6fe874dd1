import type * as z from 'zod';

/** The parts of zod's internal definition this walk reads (zod 4 `_zod.def`). */
interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
  valueType?: z.ZodType;
  getter?: () => z.ZodType;
}

const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The object schemas `schema` may be at `path`, through optionals, defaults, pipes, unions and lists. */
function objectsAt(schema: z.ZodType, path: readonly PropertyKey[], depth = 0): Def[] {
  if (depth > 64) return [];
  const d = defOf(schema);
  const inner = d.innerType ?? d.in ?? (d.type === 'lazy' ? d.getter?.() : undefined);
  if (inner) return objectsAt(inner, path, depth + 1);
  if (d.type === 'union') return (d.options ?? []).flatMap((o) => objectsAt(o, path, depth + 1));
  if (d.type === 'intersection') return [d.left, d.right].flatMap((o) => (o ? objectsAt(o, path, depth + 1) : []));
  if (path.length === 0) return d.type === 'object' ? [d] : [];
  const [head, ...rest] = path;
  if (d.type === 'object') {
    const next = d.shape?.[String(head)];
    return next ? objectsAt(next, rest, depth + 1) : [];
  }
  if (d.type === 'array' && typeof head === 'number' && d.element) return objectsAt(d.element, rest, depth + 1);
  if (d.type === 'record' && d.valueType) return objectsAt(d.valueType, rest, depth + 1);
  return [];
}

/** The field names an object at `path` of `schema` may have (every union member's), for "did you mean". */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  return [...new Set(objectsAt(schema, path).flatMap((d) => Object.keys(d.shape ?? {})))];
}
