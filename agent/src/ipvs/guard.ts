import { AgentError } from '../errors.ts';
import type { IpvsTable } from '../dataplane/ipvs-types.ts';
import { serviceKey } from '../dataplane/ipvs-types.ts';

/**
 * Blast-radius guard (DESIGN.md style rule 6): a plan that would delete more than half of the
 * owned services present (and more than one) needs `allowMassDelete` in the site spec.
 */
export function checkMassDelete(desired: IpvsTable, actual: IpvsTable, owned: ReadonlySet<string>, allow: boolean): void {
  if (allow) return;
  const wanted = new Set(desired.map(serviceKey));
  const present = actual.map(serviceKey).filter((k) => owned.has(k));
  const deleting = present.filter((k) => !wanted.has(k));
  if (deleting.length > 1 && deleting.length * 2 > present.length) {
    throw new AgentError('MASS_DELETE', `refusing to delete ${deleting.length} of ${present.length} services (${deleting.slice(0, 5).join(', ')}); set spec.allowMassDelete to allow it`);
  }
}
