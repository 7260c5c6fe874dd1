import type { Sql } from 'postgres';
import { LOCK_NAMESPACE } from '../db/advisory-lock.ts';
import { ownedSites, planLeases } from './lease-plan.ts';

/** The sites this replica may publish now, valid while the session that holds their locks lives. */
export interface Claim {
  owned: Set<string>;
  /** False once the lease connection closed after the claim (its locks are gone: stop publishing). */
  valid(): boolean;
}

export interface SiteLeases {
  /** Takes what it can of `sites`' leases, keeps those it holds, lets go of the others. */
  claim(sites: Iterable<string>): Promise<Claim>;
  close(): Promise<void>;
}

const NS = LOCK_NAMESPACE.sitePublisher;

/**
 * Per-site publishing leases as PostgreSQL session advisory locks on one connection of their own
 * (no expiry to tune: a replica that dies closes its socket and the server drops its locks).
 * What the session holds is read back from pg_locks at every claim, so a connection that closed
 * and reconnected (its locks lost, maybe taken by another replica) is never mistaken for holding.
 */
export async function openSiteLeases(url: string, o: { log?: (line: string) => void; name?: string } = {}): Promise<SiteLeases> {
  const log = o.log ?? (() => {});
  const { default: postgres } = await import('postgres');
  let generation = 0;
  const client: Sql = postgres(url, {
    max: 1,
    // The connection is the lease: no recycling by age or idleness.
    max_lifetime: 0,
    idle_timeout: 0,
    // Names the session in pg_stat_activity, for an operator looking at who holds which lease.
    connection: { application_name: o.name ?? 'lvsfleet-site-leases' },
    onnotice: () => {},
    onclose: () => {
      generation++;
      log('publisher: lease connection closed; its site leases are gone');
    },
  });

  async function heldKeys(): Promise<Set<number>> {
    // A two-int advisory key sits in pg_locks as classid, objid (as oid) with objsubid 2.
    const rows = await client<{ k: string }[]>`
      SELECT objid::bigint::text AS k FROM pg_locks
      WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND objsubid = 2 AND classid = (${NS}::int)::oid AND granted`;
    // objid is unsigned: back to the signed int the key was taken as.
    return new Set(rows.map((r) => Number(r.k) | 0));
  }

  return {
    async claim(sites) {
      const at = generation;
      const held = await heldKeys();
      const plan = planLeases(held, sites);
      // One statement for every lease let go and one for every lease tried, not one each: a drain
      // of many sites' rows (100 sites applied at once) waited for a round trip per site that
      // changed hands, and the database is often a network hop away. The keys go as one JSON
      // array, in the plan's order; a try never waits, so taking several in one statement cannot
      // deadlock with another replica doing the same.
      if (plan.release.length) {
        await client`SELECT pg_advisory_unlock(${NS}::int, x.key::int) FROM json_array_elements_text(${JSON.stringify(plan.release)}::text::json) AS x(key)`;
        for (const k of plan.release) held.delete(k);
      }
      if (plan.take.length) {
        const tried = await client<{ k: number; ok: boolean }[]>`
          SELECT x.key::int AS k, pg_try_advisory_lock(${NS}::int, x.key::int) AS ok FROM json_array_elements_text(${JSON.stringify(plan.take)}::text::json) AS x(key)`;
        for (const r of tried) if (r.ok) held.add(r.k);
      }
      // The claim holds only if no close happened while it ran (a reconnect would hold nothing).
      const owned = generation === at ? ownedSites(plan, held) : new Set<string>();
      return { owned, valid: () => generation === at };
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
}
