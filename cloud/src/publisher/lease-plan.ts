/**
 * Which sites' publishing leases a replica takes and lets go, decided without I/O.
 *
 * With several replicas on one PostgreSQL, a site's outbox is drained only by the replica holding
 * that site's lease (a session advisory lock, ./site-leases.ts), so per node one replica at a time
 * publishes and the order holds as with one process. A lease is held while the site has rows to
 * publish and let go when it has none, so an idle replica can take it next time.
 */

/** The lock's second key for a site: FNV-1a of its id, as the signed 32-bit integer PostgreSQL takes. */
export function leaseKey(siteId: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(siteId)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

export interface LeasePlan {
  /** Keys to try to take (not held now). */
  take: number[];
  /** Keys to let go: held, and no wanted site maps to them. */
  release: number[];
  /** Each wanted site's key (two sites may share one; holding it covers both). */
  keyOf: Map<string, number>;
}

/**
 * @param held keys this session holds now (read from pg_locks, so a lost connection shows as none)
 * @param wanted sites with something to publish in this drain
 */
export function planLeases(held: ReadonlySet<number>, wanted: Iterable<string>): LeasePlan {
  const keyOf = new Map<string, number>();
  for (const site of wanted) keyOf.set(site, leaseKey(site));
  const want = new Set(keyOf.values());
  const sorted = (keys: Iterable<number>) => [...keys].sort((a, b) => a - b);
  return {
    take: sorted([...want].filter((k) => !held.has(k))),
    release: sorted([...held].filter((k) => !want.has(k))),
    keyOf,
  };
}

/** The sites owned after the plan ran: those whose key this session holds. */
export function ownedSites(plan: LeasePlan, heldAfter: ReadonlySet<number>): Set<string> {
  return new Set([...plan.keyOf].filter(([, k]) => heldAfter.has(k)).map(([site]) => site));
}
