import type { IpvsOp, IpvsServiceState, IpvsTable } from '#shared/ipvs/model.ts';
import { destKey, sameDestAttrs, sameServiceAttrs, serviceKey } from '#shared/ipvs/model.ts';

const strip = ({ dests: _d, ...s }: IpvsServiceState) => s;

/**
 * The IPVS planner (docs/architecture.md, "Pure core, thin shell"): (desired, actual, owned) → the ordered operations
 * of one `ipvsadm -R` batch. It never flushes: a desired service already in the kernel is
 * adopted and diffed; a service not desired is deleted only if this agent owns it; a weight or
 * threshold change is an edit (`-e`), never a delete and re-add.
 */
export function planIpvs(desired: IpvsTable, actual: IpvsTable, owned: ReadonlySet<string>): IpvsOp[] {
  const ops: IpvsOp[] = [];
  const actualByKey = new Map(actual.map((s) => [serviceKey(s), s]));
  const desiredKeys = new Set(desired.map(serviceKey));
  for (const s of actual) {
    if (!desiredKeys.has(serviceKey(s)) && owned.has(serviceKey(s))) ops.push({ op: 'delete-service', service: strip(s) });
  }
  for (const want of desired) {
    const have = actualByKey.get(serviceKey(want));
    const service = strip(want);
    if (!have) {
      ops.push({ op: 'add-service', service });
      for (const dest of want.dests) ops.push({ op: 'add-dest', service, dest });
      continue;
    }
    if (!sameServiceAttrs(want, have)) ops.push({ op: 'edit-service', service });
    const wantDests = new Map(want.dests.map((d) => [destKey(d), d]));
    const haveDests = new Map(have.dests.map((d) => [destKey(d), d]));
    for (const [k, dest] of haveDests) if (!wantDests.has(k)) ops.push({ op: 'delete-dest', service, dest });
    for (const [k, dest] of wantDests) {
      const h = haveDests.get(k);
      if (!h) ops.push({ op: 'add-dest', service, dest });
      else if (!sameDestAttrs(dest, h)) ops.push({ op: 'edit-dest', service, dest });
    }
  }
  return ops;
}
