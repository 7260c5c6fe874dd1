import { describe, expect, it } from 'vitest';
import { progressOf, type RolloutView } from './rollout-progress.ts';

const rollout = (over: Partial<RolloutView> = {}): RolloutView => ({
  revision: 5,
  previousRevision: 4,
  state: 'running',
  stages: [
    { name: 'backups', nodes: ['dr2', 'rs1'] },
    { name: 'masters', nodes: ['dr1'] },
  ],
  stage: 0,
  bakeMs: 30_000,
  bakeStartedAt: null,
  released: ['dr2', 'rs1'],
  reason: null,
  rollbackRevision: null,
  ...over,
});
const node = (name: string, applied: number, over = {}) => ({ name, appliedRevision: applied, errors: [], ...over });

describe('progressOf', () => {
  it('says held for a node whose stage has not come, published until it applies, and waits for the rollout to complete', () => {
    const p = progressOf(5, ['dr1', 'dr2', 'rs1'], [node('dr1', 4), node('dr2', 5), node('rs1', 4)], rollout({ bakeStartedAt: null }));
    expect(p).toMatchObject({ outcome: 'waiting', nodes: { dr1: 'held', dr2: 'applied', rs1: 'published' } });
    expect(p.facts).toEqual(['stage 1/2 (backups): published to dr2, rs1', '  dr2: applied revision 5']);
    const all = [node('dr1', 5), node('dr2', 5), node('rs1', 5)];
    expect(progressOf(5, ['dr1', 'dr2', 'rs1'], all, rollout({ stage: 1, released: ['dr2', 'rs1', 'dr1'] })).outcome).toBe('waiting');
    expect(progressOf(5, ['dr1', 'dr2', 'rs1'], all, rollout({ stage: 1, released: ['dr2', 'rs1', 'dr1'], state: 'completed' })).outcome).toBe('done');
  });

  it('fails on a node that holds the revision pending with errors, and on a rollback', () => {
    const bad = progressOf(5, ['dr2'], [node('dr2', 4, { pendingRevision: 5, errors: ['ipvs: refused'] })], null);
    expect(bad).toMatchObject({ outcome: 'failed', why: 'dr2: ipvs: refused', nodes: { dr2: 'failed' } });
    const rolled = progressOf(5, ['dr1', 'dr2', 'rs1'], [], rollout({ state: 'rolled_back', reason: 'dr2 failed', rollbackRevision: 6 }));
    expect(rolled).toMatchObject({ outcome: 'failed', why: 'revision 5 was rolled back: dr2 failed' });
    expect(rolled.facts.at(-1)).toBe('rollout rolled back: dr2 failed; revision 6 restores revision 4 on dr2, rs1');
  });

  it('without a rollout: done when every published node applied', () => {
    expect(progressOf(5, ['a', 'b'], [node('a', 5), node('b', 6)], null)).toMatchObject({
      outcome: 'done',
      facts: expect.arrayContaining(['revision 5 applied on 2 node(s)']),
    });
  });
  it('at 10,000 nodes: a stage line names a few nodes and counts the rest; every node still has its progress', () => {
    const rs = Array.from({ length: 9_998 }, (_, i) => `rs${i + 1}`);
    const backups = ['dr2', ...rs];
    const r = rollout({
      stages: [
        { name: 'backups', nodes: backups },
        { name: 'masters', nodes: ['dr1'] },
      ],
      released: backups,
    });
    const p = progressOf(5, ['dr1', ...backups], [node('dr2', 5), ...rs.map((n) => node(n, 4))], r);
    expect(p.facts).toEqual(['stage 1/2 (backups): published to dr2, rs1, rs2, rs3, rs4, rs5, rs6, rs7 and 9991 more', '  dr2: applied revision 5']);
    expect(Object.keys(p.nodes)).toHaveLength(10_000);
    expect([p.nodes.dr1, p.nodes.dr2, p.nodes.rs9998]).toEqual(['held', 'applied', 'published']);
  });
});
