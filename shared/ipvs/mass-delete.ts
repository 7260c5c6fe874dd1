/**
 * The blast-radius rule (docs/architecture.md, "Blast radius"), one for the cloud and the agent:
 * a change that deletes more than half of the services (and more than one), or takes more than
 * half of the real servers of the services it keeps out of the config (and more than one), is a
 * mass delete. The cloud counts over the spec, the agent over what it owns in the kernel; both
 * ask this module, so a change the cloud lets through with `force` carries the permission the
 * agent's guard asks for, and a change the cloud calls ordinary never trips the agent.
 */

/** Service key → keys of its real servers before the change (any naming, the same on both sides of one count). */
export type ServersBefore = ReadonlyMap<string, Iterable<string>>;
/**
 * Service key → which of its servers' keys the change keeps: a set of the service's own, or any
 * set that answers for them (the agent's keys name their service, so one set of every configured
 * server answers for each service, and no set per service is made at every pass).
 */
export type KeptServers = ReadonlyMap<string, Pick<ReadonlySet<string>, 'has'>>;

export interface MassDeleteCount {
  services: { removed: number; total: number };
  /** Real servers of the services present before and after; a removed service's servers count as that service. */
  realServers: { removed: number; total: number };
  exceeded: boolean;
}

/** More than one and more than half of `total`. */
export function overThreshold(removed: number, total: number): boolean {
  return removed > 1 && removed * 2 > total;
}

/** What going from `before` to `after` deletes, and whether that is a mass delete. Pure. */
export function countMassDelete(before: ServersBefore, after: KeptServers): MassDeleteCount {
  let servicesRemoved = 0;
  let serversTotal = 0;
  let serversRemoved = 0;
  for (const [service, servers] of before) {
    const kept = after.get(service);
    if (!kept) {
      servicesRemoved++;
      continue;
    }
    // One set on both sides (a service the caller knows unchanged) keeps every server.
    const same = Object.is(kept, servers);
    for (const s of servers) {
      serversTotal++;
      if (!same && !kept.has(s)) serversRemoved++;
    }
  }
  const services = { removed: servicesRemoved, total: before.size };
  const realServers = { removed: serversRemoved, total: serversTotal };
  return { services, realServers, exceeded: overThreshold(services.removed, services.total) || overThreshold(realServers.removed, realServers.total) };
}

/** The removed keys, for a message: services gone, then real servers gone from kept services. */
export function removedKeys(before: ServersBefore, after: KeptServers): { services: string[]; realServers: string[] } {
  const services: string[] = [];
  const realServers: string[] = [];
  for (const [service, servers] of before) {
    const kept = after.get(service);
    if (!kept) services.push(service);
    else for (const s of servers) if (!kept.has(s)) realServers.push(s);
  }
  return { services, realServers };
}
