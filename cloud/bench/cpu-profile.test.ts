import { describe, expect, it } from 'vitest';
import { selfTimeByArea, topFunctions, type CpuProfile } from './cpu-profile.ts';

const frame = (functionName: string, url = '') => ({ functionName, url });

// root → handler (api) → JSON.parse (native) ; root → sign (keys) → canonicalJson ; root → decide → canonicalJson ; root → GC
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 4, 6, 8, 9] },
    { id: 2, callFrame: frame('putSpec', 'file:///r/cloud/src/api/sites.ts'), children: [3] },
    { id: 3, callFrame: frame('parse') },
    { id: 4, callFrame: frame('sign', 'file:///r/cloud/src/keys/signing.ts'), children: [5] },
    { id: 5, callFrame: frame('canonicalJson', 'file:///r/shared/util/canonical-json.ts') },
    { id: 6, callFrame: frame('decideApply', 'file:///r/cloud/src/sites/decide.ts'), children: [7] },
    { id: 7, callFrame: frame('canonicalJson', 'file:///r/shared/util/canonical-json.ts') },
    { id: 8, callFrame: frame('(garbage collector)') },
    { id: 9, callFrame: frame('writeGeneric', 'node:internal/stream_base_commons') },
  ],
  // timeDeltas[i + 1] is the time charged to samples[i] (µs).
  samples: [3, 5, 7, 7, 8, 9],
  timeDeltas: [0, 1000, 2000, 3000, 4000, 5000, 6000],
  startTime: 0,
  endTime: 25_000,
};

describe('selfTimeByArea', () => {
  it('charges each sample to the innermost frame that names an area, hashing to its caller', () => {
    const { areas, wallMs } = selfTimeByArea(profile);
    expect(wallMs).toBe(25);
    expect(Object.fromEntries(areas)).toEqual({ 'parse (HTTP, JSON, YAML)': 1, sign: 2, diff: 7, GC: 5, 'node internals': 6 });
    expect(areas[0][0]).toBe('diff');
  });
});

describe('topFunctions', () => {
  it('sums a function over all its callers and labels it by the area most of its time was charged to', () => {
    // canonicalJson: 2 ms under the signer (its first sample), 7 under the diff.
    expect(topFunctions(profile, 2)).toEqual([
      { name: 'canonicalJson shared/util/canonical-json.ts:1', area: 'diff', ms: 9 },
      { name: 'writeGeneric node:internal/stream_base_commons:1', area: 'node internals', ms: 6 },
    ]);
  });
});
