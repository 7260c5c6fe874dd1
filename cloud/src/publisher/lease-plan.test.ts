import { describe, expect, it } from 'vitest';
import { leaseKey, ownedSites, planLeases } from './lease-plan.ts';

describe('leaseKey', () => {
  it('is a stable signed 32-bit integer per site id', () => {
    expect(leaseKey('site_a')).toBe(leaseKey('site_a'));
    expect(leaseKey('site_a')).not.toBe(leaseKey('site_b'));
    // FNV-1a of the empty string and of "a" (reference values), as signed int4.
    expect(leaseKey('')).toBe(0x811c9dc5 | 0);
    expect(leaseKey('a')).toBe(0xe40c292c | 0);
    for (const id of ['x', 'site_bj-dc1', 'ünïcødé', 'a'.repeat(300)]) {
      const k = leaseKey(id);
      expect(Number.isInteger(k) && k >= -(2 ** 31) && k < 2 ** 31).toBe(true);
    }
  });
});

describe('planLeases', () => {
  const [a, b, c] = ['site_a', 'site_b', 'site_c'];
  const [ka, kb, kc] = [a, b, c].map(leaseKey);

  it('takes the wanted leases it lacks, keeps the held ones, lets go of the idle ones', () => {
    const plan = planLeases(new Set([ka, kc]), [a, b]);
    expect(plan.take).toEqual([kb]);
    expect(plan.release).toEqual([kc]);
    expect(ownedSites(plan, new Set([ka, kb]))).toEqual(new Set([a, b]));
  });

  it('owns only the sites whose lock it got (another replica holds the rest)', () => {
    const plan = planLeases(new Set(), [a, b]);
    expect(plan.take).toEqual([ka, kb].sort((x, y) => x - y));
    expect(ownedSites(plan, new Set([kb]))).toEqual(new Set([b]));
  });

  it('after a lost connection (nothing held) takes everything again, releases nothing', () => {
    const plan = planLeases(new Set(), [a]);
    expect(plan).toMatchObject({ take: [ka], release: [] });
  });

  it('never releases a key a wanted site shares, and owns both sites of a shared key', () => {
    // Two site ids whose FNV-1a collides (found by search): one lock covers both.
    const [x, y] = ['site_354419', 'site_1191112'];
    expect(leaseKey(x)).toBe(leaseKey(y));
    const plan = planLeases(new Set([leaseKey(x)]), [y]);
    expect(plan).toMatchObject({ take: [], release: [] });
    expect(ownedSites(planLeases(new Set(), [x, y]), new Set([leaseKey(x)]))).toEqual(new Set([x, y]));
    expect(planLeases(new Set([ka]), []).release).toEqual([ka]);
  });
});
