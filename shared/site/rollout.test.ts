import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveRollout } from './rollout.ts';
import { validateSite } from './validate.ts';

const site = (extra: string) =>
  parse(`apiVersion: lvsfleet/v1
kind: Site
metadata: { name: s1 }
spec:
  nodes:
    - { name: d1, role: director, address: 10.0.0.1 }
    - { name: d2, role: director, address: 10.0.0.2 }
  vrrp:
    - { name: VI_1, vrid: 1, vips: [10.0.0.100/32], members: [{ node: d1, priority: 100 }${extra.includes('single') ? '' : ', { node: d2, priority: 90 }'}] }
${extra.replace('single', '')}`);

function resolved(extra: string) {
  const r = validateSite(site(extra));
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return resolveRollout(r.site);
}

describe('spec.rollout', () => {
  it('is on by default for a VRRP pair, with a 30 s bake and a 5 min stage timeout', () => {
    expect(resolved('')).toEqual({ enabled: true, bakeMs: 30_000, stageTimeoutMs: 300_000 });
  });

  it('is off by default without a pair (nothing can go before the MASTER)', () => {
    expect(resolved('single').enabled).toBe(false);
  });

  it('takes enabled, bake and stageTimeout from the spec', () => {
    expect(resolved('  rollout: { enabled: false, bake: 2m, stageTimeout: 10m }')).toEqual({ enabled: false, bakeMs: 120_000, stageTimeoutMs: 600_000 });
  });

  it('names the field of a bad value', () => {
    const r = validateSite(site('  rollout: { bake: 90m, stageTimeout: 5s, enabled: maybe }'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path).sort()).toEqual(['spec.rollout.bake', 'spec.rollout.enabled', 'spec.rollout.stageTimeout']);
  });
});
