import type { ResolvedService } from '../config/node-config.ts';
import type { Service } from '../site/service.ts';
import type { Node } from '../site/site.ts';
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

const addressesOf = (svc: Service, nodes: ReadonlyMap<string, Node>): (string | undefined)[] =>
  svc.realServers.flatMap((rs) => {
    const node = rs.node === undefined ? undefined : nodes.get(rs.node);
    return [node?.address, node?.address6];
  });

const sameAddresses = (a: (string | undefined)[], b: (string | undefined)[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The resolved services of a site's last compile, handed to its next one: a service whose spec is
 * JSON-equal to the last one's and whose real servers' nodes kept their addresses gives back the
 * very objects it gave then, and within one compile every director gets the same objects for a
 * service (both directors of a pair list every real server). Configs are never changed in place,
 * so sharing is safe, and what is shared is known by identity downstream: comparing a config with
 * the last one skips the shared services, and their canonical JSON is written once
 * (cloud/src/sites/config-hashes.ts). A 1,000-node site's change of one real server's weight
 * resolves one service of four, once, instead of all four for each director.
 *
 * Holds only the last compile's services: each compile's `round` replaces the set.
 */
export class ServiceMemo {
  private last = new Map<string, Resolved>();

  /** One compile: `resolve` for each service a director lists, then the set is this compile's. */
  round<T>(compile: (resolve: (svc: Service, nodes: ReadonlyMap<string, Node>, make: () => ResolvedService[]) => ResolvedService[]) => T): T {
    const next = new Map<string, Resolved>();
    const out = compile((svc, nodes, make) => {
      const mine = next.get(svc.name);
      // The same spec object again in this compile: another director.
      if (mine && mine.spec === svc) return mine.resolved;
      const addresses = addressesOf(svc, nodes);
      const was = this.last.get(svc.name);
      const kept = was && sameAddresses(was.addresses, addresses) && jsonEqual(was.spec, svc) ? was.resolved : make();
      next.set(svc.name, { spec: svc, addresses, resolved: kept });
      return kept;
    });
    this.last = next;
    return out;
  }

  /** Real servers held (across the services' resolved forms), for a holder's bound. */
  get realServers(): number {
    let n = 0;
    for (const r of this.last.values()) for (const s of r.resolved) n += s.realServers.length;
    return n;
  }
}
