import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSave, renderBatch, renderSave } from '#shared/ipvs/codec.ts';
import type { IpvsOp, IpvsTable } from '#shared/ipvs/model.ts';
import { serviceKey } from '#shared/ipvs/model.ts';
import { MemoryIpvs } from '../dataplane/memory-ipvs.ts';
import { normalize, tableArb } from './arbitraries.test-support.ts';
import { planIpvs } from './plan.ts';

/**
 * Runs a plan the way the agent does: `actual` loaded into the kernel model, the operations fed
 * to it as one `ipvsadm -R` batch, the result read back with `-Sn`. The kernel model rejects
 * what the kernel rejects, so an impossible plan fails here.
 */
function applyInKernel(actual: IpvsTable, ops: IpvsOp[]): IpvsTable {
  const k = new MemoryIpvs();
  k.restore(renderSave(actual));
  k.restore(renderBatch(ops));
  return parseSave(k.save());
}

describe('planIpvs properties', () => {
  it('applying plan(desired, actual) to actual gives desired (owned = all of actual), through the kernel model', () => {
    fc.assert(
      fc.property(tableArb, tableArb, (desired, actual) => {
        const ops = planIpvs(desired, actual, new Set(actual.map(serviceKey)));
        expect(normalize(applyInKernel(actual, ops))).toEqual(normalize(desired));
      }),
      { numRuns: 300 },
    );
  });

  it('planning again after applying gives nothing', () => {
    fc.assert(
      fc.property(tableArb, tableArb, fc.func(fc.boolean()), (desired, actual, own) => {
        const owned = new Set(actual.map(serviceKey).filter((k) => own(k)));
        const after = applyInKernel(actual, planIpvs(desired, actual, owned));
        expect(planIpvs(desired, after, owned)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('never touches a service it does not own and does not want', () => {
    fc.assert(
      fc.property(tableArb, tableArb, fc.func(fc.boolean()), (desired, actual, own) => {
        const owned = new Set(actual.map(serviceKey).filter((k) => own(k)));
        const wanted = new Set(desired.map(serviceKey));
        const ops = planIpvs(desired, actual, owned);
        for (const op of ops) {
          const k = serviceKey(op.service);
          expect(wanted.has(k) || owned.has(k)).toBe(true);
        }
        const after = applyInKernel(actual, ops);
        const foreign = (t: IpvsTable) => normalize(t.filter((s) => !owned.has(serviceKey(s)) && !wanted.has(serviceKey(s))));
        expect(foreign(after)).toEqual(foreign(actual));
      }),
      { numRuns: 300 },
    );
  });

  it('weight-only changes are edits, never deletes', () => {
    fc.assert(
      fc.property(tableArb, fc.array(fc.integer({ min: 0, max: 65535 }), { minLength: 30, maxLength: 30 }), (actual, weights) => {
        let i = 0;
        const desired = actual.map((s) => ({ ...s, dests: s.dests.map((d) => ({ ...d, weight: weights[i++ % weights.length] })) }));
        const ops = planIpvs(desired, actual, new Set(actual.map(serviceKey)));
        expect(ops.every((o) => o.op === 'edit-dest')).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('planIpvs examples', () => {
  const svc = { protocol: 'tcp' as const, address: '10.99.0.50', port: 80, fwmark: 0, scheduler: 'wlc', flags: [], persistence: null, onePacket: false };
  const rs = (address: string, weight = 1) => ({ address, port: 80, forwarding: 'dr' as const, weight, upperThreshold: 0, lowerThreshold: 0 });

  it('adds a service and its real servers in one batch, service first', () => {
    const ops = planIpvs([{ ...svc, dests: [rs('10.99.1.1'), rs('10.99.1.2', 3)] }], [], new Set());
    expect(renderBatch(ops)).toBe('-A -t 10.99.0.50:80 -s wlc\n-a -t 10.99.0.50:80 -r 10.99.1.1:80 -g -w 1\n-a -t 10.99.0.50:80 -r 10.99.1.2:80 -g -w 3\n');
  });

  it('adopts an identical service left by a previous run without any operation', () => {
    const t = [{ ...svc, dests: [rs('10.99.1.1')] }];
    expect(planIpvs(t, structuredClone(t), new Set())).toEqual([]);
  });

  it('edits the scheduler in place rather than re-creating the service', () => {
    const ops = planIpvs([{ ...svc, scheduler: 'rr', dests: [rs('10.99.1.1')] }], [{ ...svc, dests: [rs('10.99.1.1')] }], new Set());
    expect(renderBatch(ops)).toBe('-E -t 10.99.0.50:80 -s rr\n');
  });

  it('deletes an owned service no longer desired and leaves a foreign one', () => {
    const foreign = { ...svc, port: 443, dests: [] };
    const ops = planIpvs([], [{ ...svc, dests: [rs('10.99.1.1')] }, foreign], new Set([serviceKey(svc)]));
    expect(renderBatch(ops)).toBe('-D -t 10.99.0.50:80\n');
  });
});
