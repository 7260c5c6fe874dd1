/**
 * A spec list's items (nodes, services, VRRP instances) by name, as `new Map(items.map((i) =>
 * [i.name, i]))` has them (in the list's order, the last of a name winning), made once per list and
 * kept while the list lives. Validating, compiling and diffing one spec each wanted its nodes by
 * name, and the cloud diffs every apply against the spec it remembers: a 10,000-node spec's map is
 * a large object of its own, whose growth takes about 0.9 MB of memory the process has not touched,
 * some 225 page faults on the VMs this is measured on.
 *
 * A kept map is handed out only while it still matches its list, checked item by item (which costs
 * a walk, not an allocation): specs are not edited once parsed, but nothing stops a caller or a test
 * from editing one.
 */
const kept = new WeakMap<readonly { name: string }[], Map<string, unknown>>();

export function byName<T extends { name: string }>(items: readonly T[]): ReadonlyMap<string, T> {
  const map = kept.get(items) as Map<string, T> | undefined;
  if (map && matches(map, items)) return map;
  const made = new Map<string, T>();
  for (const item of items) made.set(item.name, item);
  kept.set(items, made);
  return made;
}

/** Whether `map` is what `items` would make now: the same items under their own names, in order (a list with a name twice never matches, and is made again). */
function matches<T extends { name: string }>(map: ReadonlyMap<string, T>, items: readonly T[]): boolean {
  if (map.size !== items.length) return false;
  let i = 0;
  for (const [name, value] of map) {
    const item = items[i++];
    if (value !== item || item.name !== name) return false;
  }
  return true;
}
