import { AgentError } from '../errors.ts';
import type { IpvsTable } from '#shared/ipvs/model.ts';
import { realServerKey, serviceKey } from '#shared/ipvs/model.ts';

/**
 * Blast-radius guard (docs/architecture.md, "Blast radius"): a plan that would delete more than half of the
 * owned services present (and more than one), or take more than half of the real servers of
 * the kept services out of the config (and more than one), needs `allowMassDelete` in the site
 * spec. Servers leaving because their health check failed do not count: that is not a config
 * change. `configured` holds realServerKey(serviceKey, dest) of every server the config names.
 */
export function checkMassDelete(desired: IpvsTable, actual: IpvsTable, owned: ReadonlySet<string>, allow: boolean, configured?: ReadonlySet<string>): void {
  if (allow) return;
  const wanted = new Set(desired.map(serviceKey));
  const present = actual.map(serviceKey).filter((k) => owned.has(k));
  const deleting = present.filter((k) => !wanted.has(k));
  if (deleting.length > 1 && deleting.length * 2 > present.length) {
    throw new AgentError(
      'MASS_DELETE',
      `refusing to delete ${deleting.length} of ${present.length} services (${deleting.slice(0, 5).join(', ')}); set spec.allowMassDelete to allow it`,
    );
  }
  if (!configured) return;
  const kept = new Set(desired.map(serviceKey));
  const servers = actual.filter((s) => owned.has(serviceKey(s)) && kept.has(serviceKey(s))).flatMap((s) => s.dests.map((d) => realServerKey(serviceKey(s), d)));
  const dropped = servers.filter((k) => !configured.has(k));
  if (dropped.length > 1 && dropped.length * 2 > servers.length) {
    throw new AgentError(
      'MASS_DELETE',
      `refusing to remove ${dropped.length} of ${servers.length} real servers (${dropped.slice(0, 5).join(', ')}); set spec.allowMassDelete to allow it`,
    );
  }
}
