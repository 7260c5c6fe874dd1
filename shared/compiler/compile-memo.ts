import type { NodeConfig, RealServerVip, ResolvedService } from '../config/node-config.ts';
import type { Service } from '../site/service.ts';
import type { Node, Site } from '../site/site.ts';
import { jsonEqual } from '../util/json-equal.ts';

/**
 * A service's resolved form depends on its spec and on the addresses of the nodes its real servers
 * name (resolveServices reads nothing else): the same spec and addresses give equal objects.
 */
interface Resolved {
  spec: Service;
  /** address and address6 of each real server's node, in order (undefined for one listed by address). */
  addresses: (string | undefined)[];
  resolved: ResolvedService[];
}

/** A real server's config depends on its node, its VIPs, the site's name and allowMassDelete (./compile.ts, realServerConfig). */
interface RealServerCompiled {
  node: Node;
  vips: RealServerVip[];
  site: string;
  allowMassDelete: boolean;
  config: NodeConfig;
}

/** What a compile asks the memo for; each answers what `make` would, from the memo when it can. */
export interface CompileHooks {
  service(svc: Service, nodes: ReadonlyMap<string, Node>, make: () => ResolvedService[]): ResolvedService[];
  realServer(site: Site, node: Node, vips: RealServerVip[], make: () => NodeConfig): NodeConfig;
}

const addressesOf = (svc: Service, nodes: ReadonlyMap<string, Node>): (string | undefined)[] =>
  svc.realServers.flatMap((rs) => {
    const node = rs.node === undefined ? undefined : nodes.get(rs.node);
    return [node?.address, node?.address6];
  });

const sameAddresses = (a: (string | undefined)[], b: (string | undefined)[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * What a site's last compile made, handed to its next one, so that an apply builds only what its
 * change touched:
 * - a service whose spec is JSON-equal to the last one's and whose real servers' nodes kept their
 *   addresses gives back the very objects it gave then; within one compile every director gets the
 *   same objects for a service (both directors of a pair list every real server);
 * - a real server whose node, VIPs and site-wide inputs are as they were gives back its last config.
 *
 * Configs are never changed in place, so sharing is safe, and what is shared is known by identity
 * downstream: comparing a config with the last one skips the shared parts, and a service's
 * canonical JSON is written once (cloud/src/sites/config-hashes.ts). A 1,000-node site's change of
 * one real server's weight resolves one service of four, once, and builds no real server's config.
 *
 * Holds only the last compile's: each `round` replaces what it holds.
 */
export class CompileMemo {
  private services = new Map<string, Resolved>();
  private realServers = new Map<string, RealServerCompiled>();

  /** One compile: its hooks for each service a director lists and each real server, then what it made is what the memo holds. */
  round<T>(compile: (hooks: CompileHooks) => T): T {
    const services = new Map<string, Resolved>();
    const realServers = new Map<string, RealServerCompiled>();
    const out = compile({
      service: (svc, nodes, make) => {
        const mine = services.get(svc.name);
        // The same spec object again in this compile: another director.
        if (mine && mine.spec === svc) return mine.resolved;
        const addresses = addressesOf(svc, nodes);
        const was = this.services.get(svc.name);
        const kept = was && sameAddresses(was.addresses, addresses) && jsonEqual(was.spec, svc) ? was.resolved : make();
        services.set(svc.name, { spec: svc, addresses, resolved: kept });
        return kept;
      },
      realServer: (site, node, vips, make) => {
        const was = this.realServers.get(node.name);
        const allowMassDelete = site.spec.allowMassDelete ?? false;
        const config =
          was && was.site === site.metadata.name && was.allowMassDelete === allowMassDelete && jsonEqual(was.node, node) && jsonEqual(was.vips, vips)
            ? was.config
            : make();
        realServers.set(node.name, { node, vips, site: site.metadata.name, allowMassDelete, config });
        return config;
      },
    });
    this.services = services;
    this.realServers = realServers;
    return out;
  }

  /** Real servers held (in the services' resolved forms and as nodes), for a holder's bound. */
  get size(): number {
    let n = this.realServers.size;
    for (const r of this.services.values()) for (const s of r.resolved) n += s.realServers.length;
    return n;
  }
}

/** The hooks of a compile without a memo: everything made afresh. */
export const AFRESH: CompileHooks = { service: (_s, _n, make) => make(), realServer: (_s, _n, _v, make) => make() };
