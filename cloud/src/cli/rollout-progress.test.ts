import { describe, expect, it } from 'vitest';
import { NODE_LINES, progressOf, type RolloutView } from './rollout-progress.ts';

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

  it('at 10,000 nodes: a stage line names a few nodes and counts the rest; applies are counted, not listed; every node still has its progress', () => {
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
    expect(p.facts).toEqual([
      'stage 1/2 (backups): published to dr2, rs1, rs2, rs3, rs4, rs5, rs6, rs7 and 9991 more',
      'stage 1/2 (backups): applied on 1 of 9999 nodes',
    ]);
    expect(Object.keys(p.nodes)).toHaveLength(10_000);
    expect([p.nodes.dr1, p.nodes.dr2, p.nodes.rs9998]).toEqual(['held', 'applied', 'published']);
  });

  it('past NODE_LINES nodes without a rollout: one count line as applies come in, failures named', () => {
    const names = Array.from({ length: NODE_LINES + 1 }, (_, i) => `rs${i + 1}`);
    const half = progressOf(
      5,
      names,
      names.map((n, i) => node(n, i < 10 ? 5 : 4)),
      null,
    );
    expect(half).toMatchObject({ outcome: 'waiting', facts: ['applied on 10 of 21 nodes'] });
    expect(progressOf(5, names, [], null).facts).toEqual([]);
    const done = progressOf(
      5,
      names,
      names.map((n) => node(n, 5)),
      null,
    );
    expect(done).toMatchObject({ outcome: 'done', facts: ['applied on 21 of 21 nodes', 'revision 5 applied on 21 node(s)'] });
    const failed = progressOf(5, names, [node('rs3', 4, { pendingRevision: 5, errors: ['ipvs: refused'] })], null);
    expect(failed).toMatchObject({ outcome: 'failed', facts: ['  rs3: FAILED to apply revision 5: ipvs: refused'] });
    // At the limit, each node's line as before.
    expect(progressOf(5, names.slice(0, NODE_LINES), [node('rs1', 5)], null).facts).toEqual(['  rs1: applied revision 5']);
  });
});
