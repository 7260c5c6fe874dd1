/**
 * The next batch of messages to store: in arrival order, at most one per key (a node's messages
 * must be stored in the order it sent them, and one statement cannot order two rows of a node),
 * at most `maxItems`, and at most `maxWeight` in all unless the first alone weighs more (it goes
 * alone, so nothing waits forever). What is not taken stays, in its order, for a later batch. Pure.
 */
export function takeBatch<T>(
  pending: readonly T[],
  opts: { key: (item: T) => string; weight: (item: T) => number; maxItems: number; maxWeight: number },
): { batch: T[]; rest: T[] } {
  const batch: T[] = [];
  const rest: T[] = [];
  const keys = new Set<string>();
  let weight = 0;
  for (const item of pending) {
    const key = opts.key(item);
    const w = opts.weight(item);
    const fits = batch.length < opts.maxItems && (batch.length === 0 || weight + w <= opts.maxWeight);
    // A key seen before, taken or not, keeps its later messages behind it.
    if (fits && !keys.has(key)) {
      batch.push(item);
      weight += w;
    } else rest.push(item);
    keys.add(key);
  }
  return { batch, rest };
}
