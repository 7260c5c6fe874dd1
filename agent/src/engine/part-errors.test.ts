import { describe, expect, it } from 'vitest';
import { flattenErrors, pickParts, withPart } from './part-errors.ts';

describe('per-part errors', () => {
  it('sets and clears one part without touching the others', () => {
    const a = withPart(withPart({}, 'vrrp', 'no socket'), 'ipvs', 'Protocol not available');
    expect(a).toEqual({ vrrp: 'no socket', ipvs: 'Protocol not available' });
    expect(withPart(a, 'ipvs', null)).toEqual({ vrrp: 'no socket' });
    expect(a).toEqual({ vrrp: 'no socket', ipvs: 'Protocol not available' }); // not mutated
  });

  it('keeps only the named parts', () => {
    expect(pickParts({ checks: 'x', vrrp: 'y', ipvs: 'z', realserver: 'w' }, ['checks', 'vrrp'])).toEqual({ checks: 'x', vrrp: 'y' });
  });

  it('flattens to `part: message` in the order the parts run, whatever the order they were set in', () => {
    const e = withPart(withPart(withPart({}, 'realserver', 'r'), 'ipvs', 'i'), 'checks', 'c');
    expect(flattenErrors(e)).toEqual(['checks: c', 'ipvs: i', 'realserver: r']);
    expect(flattenErrors({})).toEqual([]);
  });
});
