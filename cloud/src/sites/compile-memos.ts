import { compileSite } from '#shared/compiler/compile.ts';
import { CompileMemo } from '#shared/compiler/compile-memo.ts';
import type { NodeConfig } from '#shared/config/node-config.ts';
import type { Site } from '#shared/site/site.ts';

/**
 * Each site's last compile (`#shared/compiler/compile-memo.ts`), so that an apply builds only the
 * services and real servers' configs its change touched. A cache: a site forgotten only costs its
 * next compile the time. Holds the sites of at most `maxRealServers` real servers in all, counted in
 * the services' resolved forms and as nodes (a 10,000-node site is about 20,000: its pair of
 * directors shares the services), the least recently compiled out first; those objects are mostly
 * the ones the sites' remembered configs (./site-states.ts) hold anyway.
 */
export class CompileMemos {
  private readonly sites = new Map<string, CompileMemo>();

  constructor(private readonly maxRealServers = 128_000) {}

  compile(siteKey: string, site: Site): Map<string, NodeConfig> {
    const memo = this.sites.get(siteKey) ?? new CompileMemo();
    const out = compileSite(site, memo);
    // Map order is insertion order: re-inserted, the site is the most recently compiled.
    this.sites.delete(siteKey);
    this.sites.set(siteKey, memo);
    let held = 0;
    for (const m of this.sites.values()) held += m.size;
    for (const [key, m] of this.sites) {
      if (held <= this.maxRealServers || key === siteKey) break;
      held -= m.size;
      this.sites.delete(key);
    }
    return out;
  }

  /** Sites held, for the tests of the bound. */
  get size(): number {
    return this.sites.size;
  }
}
