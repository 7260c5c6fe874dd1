import { compileSite } from '#shared/compiler/compile.ts';
import { ServiceMemo } from '#shared/compiler/service-memo.ts';
import type { NodeConfig } from '#shared/config/node-config.ts';
import type { Site } from '#shared/site/site.ts';

/**
 * Each site's last compile's services (`#shared/compiler/service-memo.ts`), so that an apply
 * resolves only the services it changed. A cache: a site forgotten only costs its next compile the
 * time. Holds the sites of at most `maxRealServers` resolved real servers in all (a 10,000-node
 * site's pair of directors shares 9,998), the least recently compiled out first; those objects are
 * mostly the ones the sites' remembered configs (./site-states.ts) hold anyway.
 */
export class ServiceMemos {
  private readonly sites = new Map<string, ServiceMemo>();

  constructor(private readonly maxRealServers = 64_000) {}

  compile(siteKey: string, site: Site): Map<string, NodeConfig> {
    const memo = this.sites.get(siteKey) ?? new ServiceMemo();
    const out = compileSite(site, memo);
    // Map order is insertion order: re-inserted, the site is the most recently compiled.
    this.sites.delete(siteKey);
    this.sites.set(siteKey, memo);
    let held = 0;
    for (const m of this.sites.values()) held += m.realServers;
    for (const [key, m] of this.sites) {
      if (held <= this.maxRealServers || key === siteKey) break;
      held -= m.realServers;
      this.sites.delete(key);
    }
    return out;
  }

  /** Sites held, for the tests of the bound. */
  get size(): number {
    return this.sites.size;
  }
}
