import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newRollout, stepRollout, type NodeReport, type Reports, type Rollout, type RolloutAction } from './plan.ts';

const BAKE = 30_000;
const TIMEOUT = 300_000;
const NODES = [
  { name: 'dr1', role: 'director' as const },
  { name: 'dr2', role: 'director' as const },
  { name: 'rs1', role: 'realserver' as const },
  { name: 'rs2', role: 'realserver' as const },
];

const base = (): Rollout => newRollout({ revision: 5, previousRevision: 4, bakeMs: BAKE, stageTimeoutMs: TIMEOUT, nodes: NODES });

const director = (state: string, applied: number, over: Partial<NodeReport> = {}): NodeReport => ({
  fresh: true,
  appliedRevision: applied,
  failed: null,
  vrrp: [{ instance: 'VI_1', state }],
  down: [],
  ...over,
});
const rs = (applied: number, over: Partial<NodeReport> = {}): NodeReport => ({
  fresh: true,
  appliedRevision: applied,
  failed: null,
  vrrp: [],
  down: [],
  ...over,
});

/** dr1 MASTER, dr2 BACKUP; `applied` lists the nodes already on revision 5. */
function reports(applied: string[], over: Record<string, Partial<NodeReport>> = {}): Reports {
  const rev = (n: string) => (applied.includes(n) ? 5 : 4);
  return {
    dr1: director('MASTER', rev('dr1'), over.dr1),
    dr2: director('BACKUP', rev('dr2'), over.dr2),
    rs1: rs(rev('rs1'), over.rs1),
    rs2: rs(rev('rs2'), over.rs2),
  };
}

const releases = (actions: RolloutAction[]) => actions.filter((a) => a.type === 'release').map((a) => a.nodes);
const rollback = (actions: RolloutAction[]) => actions.find((a) => a.type === 'rollback');
const events = (actions: RolloutAction[]) => actions.flatMap((a) => (a.type === 'event' ? [a.event] : []));

/** Runs ticks at the given times with reports from `at(now, released)`. */
function run(r: Rollout, times: number[], at: (now: number, released: string[]) => Reports): { r: Rollout; log: { now: number; actions: RolloutAction[] }[] } {
  const log: { now: number; actions: RolloutAction[] }[] = [];
  for (const now of times) {
    const out = stepRollout(r, { type: 'tick', reports: at(now, r.released) }, now);
    r = out.rollout;
    log.push({ now, actions: out.actions });
  }
  return { r, log };
}

describe('stepRollout: stages', () => {
  it('releases real servers and the BACKUP director first, the MASTER only after the backups baked', () => {
    let out = stepRollout(base(), { type: 'tick', reports: reports([]) }, 0);
    expect(out.rollout.stages).toEqual([
      { name: 'backups', nodes: ['dr2', 'rs1', 'rs2'] },
      { name: 'masters', nodes: ['dr1'] },
    ]);
    expect(releases(out.actions)).toEqual([['dr2', 'rs1', 'rs2']]);
    expect(events(out.actions)).toEqual(['rollout.started', 'rollout.stage']);

    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['dr2', 'rs1', 'rs2']) }, 1_000);
    expect(out.actions).toEqual([]);
    expect(out.rollout.bakeStartedAt).toBe(1_000);
    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['dr2', 'rs1', 'rs2']) }, 1_000 + BAKE - 1);
    expect(out.actions).toEqual([]);
    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['dr2', 'rs1', 'rs2']) }, 1_000 + BAKE);
    expect(releases(out.actions)).toEqual([['dr1']]);

    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['dr1', 'dr2', 'rs1', 'rs2']) }, 40_000);
    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['dr1', 'dr2', 'rs1', 'rs2']) }, 40_000 + BAKE);
    expect(out.rollout.state).toBe('completed');
    expect(events(out.actions)).toEqual(['rollout.completed']);
    expect(stepRollout(out.rollout, { type: 'tick', reports: reports([]) }, 99_999).actions).toEqual([]);
  });

  it('takes the MASTER from the reports: with dr2 MASTER, dr1 goes first', () => {
    const r = reports([], { dr1: { vrrp: [{ instance: 'VI_1', state: 'BACKUP' }] }, dr2: { vrrp: [{ instance: 'VI_1', state: 'MASTER' }] } });
    expect(stepRollout(base(), { type: 'tick', reports: r }, 0).rollout.stages.map((s) => s.nodes)).toEqual([['dr1', 'rs1', 'rs2'], ['dr2']]);
  });

  it('holds a director it cannot see (no fresh report) until the last stage, as if it were MASTER, and does not wait for it', () => {
    let out = stepRollout(base(), { type: 'tick', reports: reports([], { dr2: { fresh: false } }) }, 0);
    expect(out.rollout.stages.map((s) => s.nodes)).toEqual([
      ['rs1', 'rs2'],
      ['dr1', 'dr2'],
    ]);
    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['rs1', 'rs2'], { dr2: { fresh: false } }) }, 1_000);
    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['rs1', 'rs2'], { dr2: { fresh: false } }) }, 1_000 + BAKE);
    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['rs1', 'rs2', 'dr1'], { dr2: { fresh: false } }) }, 40_000);
    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['rs1', 'rs2', 'dr1'], { dr2: { fresh: false } }) }, 40_000 + BAKE);
    expect(out.rollout.state).toBe('completed');
  });

  it('releases everything at once when no node of the revision reports (no live traffic to stage against)', () => {
    const silent = Object.fromEntries(Object.entries(reports([])).map(([n, r]) => [n, { ...r, fresh: false }]));
    const out = stepRollout(base(), { type: 'tick', reports: silent }, 0);
    expect(out.rollout).toMatchObject({ state: 'completed', stages: [{ name: 'all', nodes: ['dr1', 'dr2', 'rs1', 'rs2'] }] });
    expect(releases(out.actions)).toEqual([['dr1', 'dr2', 'rs1', 'rs2']]);
    expect(events(out.actions)).toEqual(['rollout.started', 'rollout.stage', 'rollout.completed']);
  });

  it('starts the bake over when a node of the stage stops reporting the revision', () => {
    let out = stepRollout(base(), { type: 'tick', reports: reports([]) }, 0);
    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['dr2', 'rs1', 'rs2']) }, 1_000);
    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['dr2', 'rs1', 'rs2'], { rs1: { fresh: false } }) }, 20_000);
    expect(out.rollout.bakeStartedAt).toBeNull();
    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['dr2', 'rs1', 'rs2']) }, 25_000);
    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['dr2', 'rs1', 'rs2']) }, 1_000 + BAKE);
    expect(releases(out.actions)).toEqual([]);
    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['dr2', 'rs1', 'rs2']) }, 25_000 + BAKE);
    expect(releases(out.actions)).toEqual([['dr1']]);
  });

  it('completes at once when the revision changes no node', () => {
    const out = stepRollout(
      newRollout({ revision: 5, previousRevision: 4, bakeMs: BAKE, stageTimeoutMs: TIMEOUT, nodes: [] }),
      { type: 'tick', reports: {} },
      0,
    );
    expect(out.rollout.state).toBe('completed');
    expect(events(out.actions)).toEqual(['rollout.started', 'rollout.completed']);
  });
});

describe('stepRollout: rollback', () => {
  it('rolls back the released nodes when the BACKUP director reports the revision failed; the MASTER never gets it', () => {
    let out = stepRollout(base(), { type: 'tick', reports: reports([]) }, 0);
    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['rs1', 'rs2'], { dr2: { failed: { revision: 5, error: 'ipvsadm: bad port' } } }) }, 2_000);
    expect(out.rollout.state).toBe('rolled_back');
    expect(rollback(out.actions)).toEqual({
      type: 'rollback',
      toRevision: 4,
      nodes: ['dr2', 'rs1', 'rs2'],
      withheld: ['dr1'],
      reason: 'dr2 failed to apply revision 5: ipvsadm: bad port',
    });
    expect(events(out.actions)).toEqual(['rollout.rolled_back']);
  });

  it('ignores a failure of an older revision', () => {
    let out = stepRollout(base(), { type: 'tick', reports: reports([]) }, 0);
    out = stepRollout(out.rollout, { type: 'tick', reports: reports([], { dr2: { failed: { revision: 3, error: 'old' } } }) }, 2_000);
    expect(out.rollout.state).toBe('running');
  });

  it('rolls back on a real server newly down during the bake, not on one that was down before', () => {
    let out = stepRollout(base(), { type: 'tick', reports: reports([], { dr1: { down: ['web/10.0.0.3:80'] } }) }, 0);
    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['dr2', 'rs1', 'rs2'], { dr1: { down: ['web/10.0.0.3:80'] } }) }, 1_000);
    expect(out.rollout.state).toBe('running');
    out = stepRollout(
      out.rollout,
      { type: 'tick', reports: reports(['dr2', 'rs1', 'rs2'], { dr1: { down: ['web/10.0.0.3:80'] }, dr2: { down: ['web/10.0.0.1:8080'] } }) },
      5_000,
    );
    expect(out.rollout.state).toBe('rolled_back');
    expect(rollback(out.actions)?.reason).toBe('dr2: real server web/10.0.0.1:8080 is down since revision 5 was released');
  });

  it('names the regression of the first node by name, in whatever order the reports come', () => {
    const started = stepRollout(base(), { type: 'tick', reports: reports([]) }, 0).rollout;
    const bad = reports(['dr2', 'rs1', 'rs2'], { dr1: { vrrp: [{ instance: 'VI_1', state: 'BACKUP' }] }, dr2: { down: ['web/10.0.0.1:8080'] } });
    const reversed = Object.fromEntries(Object.entries(bad).reverse());
    for (const r of [bad, reversed])
      expect(rollback(stepRollout(started, { type: 'tick', reports: r }, 1_000).actions)?.reason).toBe('dr1: VRRP VI_1 MASTER→BACKUP during the rollout');
    // The baseline is the same whatever the order too.
    expect(stepRollout(base(), { type: 'tick', reports: Object.fromEntries(Object.entries(reports([])).reverse()) }, 0).rollout.baseline).toEqual(
      started.baseline,
    );
  });

  it('rolls back when a VRRP instance changes state (the held MASTER lost the VIP)', () => {
    let out = stepRollout(base(), { type: 'tick', reports: reports([]) }, 0);
    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['rs1'], { dr1: { vrrp: [{ instance: 'VI_1', state: 'BACKUP' }] } }) }, 3_000);
    expect(rollback(out.actions)).toMatchObject({ nodes: ['dr2', 'rs1', 'rs2'], withheld: ['dr1'], reason: 'dr1: VRRP VI_1 MASTER→BACKUP during the rollout' });
  });

  it('rolls back a stage that does not report the revision applied within the stage timeout', () => {
    let out = stepRollout(base(), { type: 'tick', reports: reports([]) }, 0);
    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['rs1', 'rs2']) }, TIMEOUT - 1);
    expect(out.rollout.state).toBe('running');
    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['rs1', 'rs2']) }, TIMEOUT);
    expect(rollback(out.actions)?.reason).toBe('dr2 did not report revision 5 applied within 300000 ms');
  });

  it('rolls back the MASTER too when it fails in the last stage', () => {
    const all = ['dr1', 'dr2', 'rs1', 'rs2'];
    const { r } = run(base(), [0, 1_000, 1_000 + BAKE], () => reports(['dr2', 'rs1', 'rs2']));
    expect(r.released).toEqual(all.slice(1).concat('dr1'));
    const out = stepRollout(r, { type: 'tick', reports: reports(all, { dr1: { failed: { revision: 5, error: 'x' } } }) }, 40_000);
    expect(rollback(out.actions)).toMatchObject({ nodes: ['dr2', 'rs1', 'rs2', 'dr1'], withheld: [] });
  });
});

describe('stepRollout: event summaries of a large site', () => {
  // dr1 MASTER, dr2 BACKUP and 9,998 real servers, every one reporting revision 4.
  const names = ['dr1', 'dr2', ...Array.from({ length: 9_998 }, (_, i) => `rs${i + 1}`)];
  const big = () =>
    newRollout({
      revision: 5,
      previousRevision: 4,
      bakeMs: BAKE,
      stageTimeoutMs: TIMEOUT,
      nodes: names.map((name) => ({ name, role: name.startsWith('dr') ? ('director' as const) : ('realserver' as const) })),
    });
  const all = (): Reports => Object.fromEntries(names.map((n) => [n, n === 'dr1' ? director('MASTER', 4) : n === 'dr2' ? director('BACKUP', 4) : rs(4)]));
  const summaries = (actions: RolloutAction[]) => actions.flatMap((a) => (a.type === 'event' ? [a.summary] : []));
  const eventData = (actions: RolloutAction[], type: string) =>
    actions.find((a) => a.type === 'event' && a.event === type) as Extract<RolloutAction, { type: 'event' }>;

  it('name a few nodes and count the rest; the event data lists every node', () => {
    const out = stepRollout(big(), { type: 'tick', reports: all() }, 0);
    expect(summaries(out.actions)).toEqual([
      'rollout of revision 5 started (backups: dr2, rs1, rs2, rs3, rs4, rs5, rs6, rs7 and 9991 more; masters: dr1)',
      'revision 5: stage 1/2 (backups) released to dr2, rs1, rs2, rs3, rs4, rs5, rs6, rs7 and 9991 more',
    ]);
    expect(eventData(out.actions, 'rollout.stage').data.nodes).toHaveLength(9_999);
    expect((eventData(out.actions, 'rollout.started').data.stages as { nodes: string[] }[]).map((s) => s.nodes.length)).toEqual([9_999, 1]);
  });

  it('a stage timeout names a few of the nodes it waited for, and lists them all in the data', () => {
    const started = stepRollout(big(), { type: 'tick', reports: all() }, 0).rollout;
    const out = stepRollout(started, { type: 'tick', reports: all() }, TIMEOUT);
    const rolled = eventData(out.actions, 'rollout.rolled_back');
    expect(rolled.summary).toBe(
      'rollout of revision 5 rolled back (dr2, rs1, rs2, rs3, rs4, rs5, rs6, rs7 and 9991 more did not report revision 5 applied within 300000 ms); ' +
        'revision 4 restored on dr2, rs1, rs2, rs3, rs4, rs5, rs6, rs7 and 9991 more',
    );
    expect(rolled.data.waiting).toHaveLength(9_999);
    expect(rolled.data.nodes).toHaveLength(9_999);
  });
});

describe('stepRollout: pause, resume, abort', () => {
  it('a paused rollout does not advance, but still rolls back on a failure', () => {
    let out = stepRollout(base(), { type: 'tick', reports: reports([]) }, 0);
    out = stepRollout(out.rollout, { type: 'pause', by: 'alice' }, 500);
    expect(out.rollout.state).toBe('paused');
    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['dr2', 'rs1', 'rs2']) }, 1_000);
    out = stepRollout(out.rollout, { type: 'tick', reports: reports(['dr2', 'rs1', 'rs2']) }, 1_000 + 10 * BAKE);
    expect(releases(out.actions)).toEqual([]);
    expect(stepRollout(out.rollout, { type: 'tick', reports: reports([], { rs1: { failed: { revision: 5, error: 'e' } } }) }, 2 * TIMEOUT).rollout.state).toBe(
      'rolled_back',
    );
  });

  it('resume gives the stage its full timeout again and bakes from scratch', () => {
    let out = stepRollout(base(), { type: 'tick', reports: reports([]) }, 0);
    out = stepRollout(out.rollout, { type: 'pause', by: 'alice' }, 1);
    out = stepRollout(out.rollout, { type: 'resume', by: 'alice' }, TIMEOUT * 2);
    expect(out.rollout).toMatchObject({ state: 'running', stageStartedAt: TIMEOUT * 2, bakeStartedAt: null });
    out = stepRollout(out.rollout, { type: 'tick', reports: reports([]) }, TIMEOUT * 2 + 1);
    expect(out.rollout.state).toBe('running');
  });

  it('abort restores exactly the released nodes and drops the held documents', () => {
    let out = stepRollout(base(), { type: 'tick', reports: reports([]) }, 0);
    out = stepRollout(out.rollout, { type: 'abort', by: 'bob' }, 10);
    expect(out.rollout).toMatchObject({ state: 'aborted', reason: 'aborted by bob' });
    expect(rollback(out.actions)).toMatchObject({ nodes: ['dr2', 'rs1', 'rs2'], withheld: ['dr1'] });
    expect(events(out.actions)).toEqual(['rollout.aborted']);
    expect(stepRollout(out.rollout, { type: 'resume', by: 'bob' }, 20)).toEqual({ rollout: out.rollout, actions: [] });
  });

  it('aborting before the first tick sends nothing anywhere', () => {
    const out = stepRollout(base(), { type: 'abort', by: 'bob' }, 0);
    expect(rollback(out.actions)).toMatchObject({ nodes: [], withheld: ['dr1', 'dr2', 'rs1', 'rs2'] });
  });
});

/** A random timeline: each tick the nodes released so far apply after a delay, and at most one thing goes wrong. */
const timeline = fc.record({
  masterIs: fc.constantFrom('dr1', 'dr2'),
  applyDelay: fc.dictionary(fc.constantFrom('dr1', 'dr2', 'rs1', 'rs2'), fc.integer({ min: 0, max: 400_000 })),
  failAt: fc.option(
    fc.record({ node: fc.constantFrom('dr1', 'dr2', 'rs1', 'rs2'), at: fc.integer({ min: 0, max: 200_000 }), kind: fc.constantFrom('apply', 'down') }),
  ),
  flapAt: fc.option(fc.integer({ min: 0, max: 200_000 })),
  step: fc.integer({ min: 500, max: 20_000 }),
});

describe('stepRollout: properties', () => {
  it('the MASTER is released only after every backup-stage node stayed applied for the bake; a rollback restores exactly what was released', () => {
    fc.assert(
      fc.property(timeline, (t) => {
        const backup = t.masterIs === 'dr1' ? 'dr2' : 'dr1';
        let r = base();
        const releasedAt = new Map<string, number>();
        /** When each node was last seen starting a continuous run of "applied". */
        const appliedSince = new Map<string, number>();
        let rolledBack: Extract<RolloutAction, { type: 'rollback' }> | undefined;
        for (let now = 0; now <= 800_000 && r.state !== 'completed' && r.state !== 'rolled_back'; now += t.step) {
          const rep: Record<string, NodeReport> = {};
          for (const n of NODES) {
            const rel = releasedAt.get(n.name);
            const applied = rel !== undefined && now >= rel + (t.applyDelay[n.name] ?? 0);
            const failing = t.failAt && t.failAt.node === n.name && now >= t.failAt.at && applied;
            rep[n.name] = {
              fresh: true,
              appliedRevision: applied ? 5 : 4,
              failed: failing && t.failAt!.kind === 'apply' ? { revision: 5, error: 'boom' } : null,
              vrrp:
                n.role === 'director'
                  ? [{ instance: 'VI_1', state: n.name === t.masterIs && !(t.flapAt !== null && now >= t.flapAt) ? 'MASTER' : 'BACKUP' }]
                  : [],
              down: failing && t.failAt!.kind === 'down' ? ['web/10.0.0.9:80'] : [],
            };
            if (applied && !appliedSince.has(n.name)) appliedSince.set(n.name, now);
          }
          const before = [...r.released];
          const out = stepRollout(r, { type: 'tick', reports: rep }, now);
          for (const a of out.actions) {
            if (a.type === 'release') {
              expect(rolledBack).toBeUndefined();
              for (const n of a.nodes) releasedAt.set(n, now);
              const backups = out.rollout.stages.find((s) => s.name === 'backups')?.nodes ?? [];
              if (a.stage === 'masters') {
                // Every backup-stage node was released earlier, applied, and has stayed applied for at least the bake.
                for (const n of backups) expect(now - appliedSince.get(n)!).toBeGreaterThanOrEqual(BAKE);
              }
              // The director that reported MASTER at the start is never in the first stage.
              if (t.flapAt !== 0) expect(backups).toEqual(['rs1', 'rs2', backup].sort());
            }
            if (a.type === 'rollback') {
              rolledBack = a;
              expect(a.nodes).toEqual(before);
              expect([...a.nodes, ...a.withheld].sort()).toEqual(['dr1', 'dr2', 'rs1', 'rs2']);
            }
          }
          r = out.rollout;
        }
        if (r.state === 'rolled_back') expect(rolledBack).toBeDefined();
        if (r.state === 'completed') expect(r.released.sort()).toEqual(['dr1', 'dr2', 'rs1', 'rs2']);
      }),
      { numRuns: 500 },
    );
  });
});
