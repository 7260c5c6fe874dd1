import { describe, expect, it } from 'vitest';
import { fieldDiff } from './field-diff.ts';

const site = (over: Record<string, unknown> = {}) => ({
  metadata: { name: 'bj-dc1' },
  spec: {
    nodes: [
      { name: 'dr1', role: 'director', address: '10.0.0.1' },
      { name: 'dr2', role: 'director', address: '10.0.0.2' },
    ],
    services: [
      {
        name: 'web',
        scheduler: 'wlc',
        realServers: [
          { node: 'rs1', port: 80, weight: 2 },
          { node: 'rs2', port: 80, weight: 1 },
        ],
      },
    ],
    ...over,
  },
});

describe('fieldDiff', () => {
  it('is empty for equal documents', () => {
    expect(fieldDiff(site(), site())).toEqual([]);
  });

  it('names changed leaves by the names of list items', () => {
    const b = site();
    b.spec.services[0].scheduler = 'rr';
    b.spec.services[0].realServers[1].weight = 5;
    expect(fieldDiff(site(), b)).toEqual([
      { path: 'spec.services.web.scheduler', before: 'wlc', after: 'rr' },
      { path: 'spec.services.web.realServers.rs2:80.weight', before: 1, after: 5 },
    ]);
  });

  it('says an inserted or removed item once, not as every later item changed', () => {
    const b = site();
    b.spec.nodes.unshift({ name: 'dr0', role: 'director', address: '10.0.0.9' });
    b.spec.nodes.pop();
    expect(fieldDiff(site(), b)).toEqual([
      { path: 'spec.nodes.dr2', before: { name: 'dr2', role: 'director', address: '10.0.0.2' } },
      { path: 'spec.nodes.dr0', after: { name: 'dr0', role: 'director', address: '10.0.0.9' } },
    ]);
  });

  it('compares unnamed lists by position and reports added fields', () => {
    expect(fieldDiff({ vips: ['a', 'b'] }, { vips: ['a', 'c', 'd'], allowMassDelete: true })).toEqual([
      { path: 'vips[1]', before: 'b', after: 'c' },
      { path: 'vips[2]', after: 'd' },
      { path: 'allowMassDelete', after: true },
    ]);
  });
});
