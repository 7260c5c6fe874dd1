import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Site } from '../site/site.ts';
import type { VrrpState } from '../wire/status.ts';
import type { Override } from '../overrides/override.ts';
import { evaluateSite, nextChangeAt, type NodeInput, type StatusInput } from './evaluate.ts';
import { iso } from './reasons.ts';
import { groupImpact, isGreen, siteRank, type RealServerState, type SiteState, type SiteStatus } from './model.ts';
import { fresh, gone, makeSite, report, T0, WINDOW } from './status.test-support.ts';

/** Mostly false: most generated fleets should be close to healthy, so the green states get tested too. */
const rarely = fc.integer({ min: 0, max: 11 }).map((n) => n === 0);

/** How one node looks to the cloud: never heard of, gone (last will), silent past the window, or fresh with some report. */
const nodeArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'never' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('gone' as const), ago: fc.integer({ min: 0, max: 3 * WINDOW }) }) },
  {
    weight: 20,
    arbitrary: fc.record({
      kind: fc.constant('fresh' as const),
      // Mostly within the window, sometimes past it (a stale report).
      ago: fc.oneof({ weight: 10, arbitrary: fc.integer({ min: 0, max: WINDOW }) }, { weight: 1, arbitrary: fc.integer({ min: WINDOW, max: 3 * WINDOW }) }),
      vrrp: fc.array(fc.option(fc.constantFrom<VrrpState>('MASTER', 'MASTER', 'BACKUP', 'BACKUP', 'FAULT', 'INIT', 'STOP'), { nil: null, freq: 8 }), {
        minLength: 2,
        maxLength: 2,
      }),
      vrrpAgo: fc.array(fc.integer({ min: -5_000, max: 600_000 }), { minLength: 2, maxLength: 2 }),
      down: fc.array(rarely, { minLength: 3, maxLength: 3 }),
      quorumLost: rarely,
      omit: rarely,
      applyFailed: rarely,
      ipvsError: rarely,
      behind: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 300_000 }) }),
    }),
  },
);

const caseArb = fc.record({
  shape: fc.record({
    directors: fc.integer({ min: 1, max: 3 }),
    realServers: fc.integer({ min: 0, max: 3 }),
    services: fc.integer({ min: 0, max: 2 }),
    checked: fc.array(fc.constantFrom(true, true, true, false), { minLength: 2, maxLength: 2 }),
    ownChecks: fc.array(rarely, { minLength: 3, maxLength: 3 }),
  }),
  nodes: fc.array(nodeArb, { minLength: 6, maxLength: 6 }),
  /**
   * Per VRRP instance: one master (the usual), a split brain, nobody MASTER, or each member's own
   * generated state. `pick` chooses the master(s) among the members.
   */
  vrrpPlan: fc.array(fc.record({ pattern: fc.constantFrom('one', 'one', 'one', 'one', 'split', 'none', 'own'), pick: fc.nat() }), {
    minLength: 2,
    maxLength: 2,
  }),
  later: fc.integer({ min: 0, max: 2 * WINDOW }),
});

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

const sites = new Map<string, Site>();
function siteFor(shape: Case['shape']): Site {
  const key = JSON.stringify(shape);
  let s = sites.get(key);
  if (!s) sites.set(key, (s = makeSite(shape)));
  return s;
}

function inputOf(c: Case): { input: StatusInput; now: number } {
  const site = siteFor(c.shape);
  const now = T0;
  const nodes: Record<string, NodeInput> = {};
  const instances = (site.spec.vrrp ?? []).map((i) => i.name);
  const services = (site.spec.services ?? []).map((s) => s.name);
  site.spec.nodes.forEach((n, i) => {
    const g = c.nodes[i];
    if (g.kind === 'never') return;
    if (g.kind === 'gone') {
      nodes[n.name] = gone(report(site, n.name, {}, now - g.ago - 10_000), now - g.ago);
      return;
    }
    const at = now - g.ago;
    const vrrp = Object.fromEntries(
      instances.flatMap((inst, k) => {
        const state = planned(c.vrrpPlan[k], i, c.shape.directors) ?? g.vrrp[k];
        return state === null ? [] : [[inst, { state, since: at - g.vrrpAgo[k] }]];
      }),
    ) as Record<string, { state: VrrpState; since: number }>;
    const status = report(
      site,
      n.name,
      {
        vrrp,
        down: site.spec.nodes.filter((x, k) => x.role === 'realserver' && g.down[k % 3]).map((x) => x.name),
        quorumLost: g.quorumLost ? services.slice(0, 1) : [],
        omit: g.omit ? services.slice(-1) : [],
        applied: 3,
        pending: g.applyFailed ? 4 : null,
        errors: g.applyFailed ? ['ipvs: refused'] : [],
        ipvsError: g.ipvsError ? 'not loaded' : undefined,
      },
      at,
    );
    nodes[n.name] = fresh(status, at, g.behind === null ? null : { revision: 4, at: now - g.behind });
  });
  return { input: { site, nodes, staleAfterMs: WINDOW }, now };
}

/** The state a plan gives director `i` (every director is a member of every instance), or null to use the node's own. */
function planned(plan: Case['vrrpPlan'][number], i: number, directors: number): VrrpState | null {
  if (i >= directors) return null;
  const master = plan.pick % directors;
  switch (plan.pattern) {
    case 'one':
      return i === master ? 'MASTER' : 'BACKUP';
    case 'split':
      return i === master || i === (master + 1) % directors ? 'MASTER' : 'BACKUP';
    case 'none':
      return 'BACKUP';
    default:
      return null;
  }
}

const isFresh = (input: StatusInput, node: string, now: number) => {
  const r = input.nodes[node];
  return !!r && r.online && r.status !== null && r.status.online && r.receivedAt !== null && now - r.receivedAt <= input.staleAfterMs;
};

const rsImpact: Record<RealServerState, SiteState> = { up: 'operational', unchecked: 'unknown', unknown: 'unknown', down: 'degraded_performance' };

function allParts(s: SiteStatus) {
  return [s, ...s.nodes, ...s.vrrp, ...s.services, ...s.services.flatMap((x) => x.realServers)];
}

function checkInvariants(status: SiteStatus, input: StatusInput, now: number): void {
  const site = input.site;
  const checkedOf = new Map<string, boolean>();
  for (const svc of site.spec.services ?? [])
    for (const rs of svc.realServers) {
      const address = rs.address ?? site.spec.nodes.find((n) => n.name === rs.node)!.address;
      checkedOf.set(`${svc.name}/${address}:${rs.port ?? svc.port}`, (rs.healthCheck ?? svc.healthCheck) !== undefined);
    }

  // No green state without a fresh report backing it.
  if (status.state === 'operational') for (const n of site.spec.nodes) expect(isFresh(input, n.name, now), `operational site, ${n.name} not fresh`).toBe(true);
  for (const n of status.nodes) if (n.state === 'online') expect(isFresh(input, n.name, now)).toBe(true);
  for (const g of status.vrrp)
    if (g.state === 'ok') {
      expect(g.masters).toHaveLength(1);
      const m = g.masters[0];
      expect(isFresh(input, m, now)).toBe(true);
      expect(input.nodes[m]!.status!.vrrp!.find((v) => v.instance === g.instance)?.state).toBe('MASTER');
    }
  for (const svc of status.services) {
    if (svc.state === 'operational') {
      expect(svc.reportedBy).not.toBeNull();
      expect(isFresh(input, svc.reportedBy!, now)).toBe(true);
    }
    for (const rs of svc.realServers)
      if (rs.state === 'up') {
        expect(svc.reportedBy).not.toBeNull();
        expect(isFresh(input, svc.reportedBy!, now)).toBe(true);
        expect(checkedOf.get(`${svc.name}/${rs.address}:${rs.port}`), 'an unchecked real server is never up').toBe(true);
        const hit = input.nodes[svc.reportedBy!]!.status!.services!.find((x) => x.name === svc.name)!.realServers.find((x) => x.address === rs.address);
        expect(hit?.healthy).toBe(true);
      }
  }

  // Split brain is never operational.
  for (const g of status.vrrp)
    if (g.state === 'split_brain') {
      expect(status.state).not.toBe('operational');
      for (const svc of status.services) if (svc.group === g.instance) expect(svc.state).not.toBe('operational');
    }

  // Every non-green state carries a reason; since is never in the future.
  for (const p of allParts(status)) {
    if (!isGreen(p.state)) expect(p.reasons.length, `${p.state} without a reason`).toBeGreaterThan(0);
    expect(Date.parse(p.since)).toBeLessThanOrEqual(now);
    for (const r of p.reasons) if (r.since !== null) expect(Date.parse(r.since)).toBeLessThanOrEqual(now);
  }

  // The worst child bounds the parent.
  for (const svc of status.services) {
    expect(siteRank(status.state)).toBeGreaterThanOrEqual(siteRank(svc.state));
    for (const rs of svc.realServers) expect(siteRank(svc.state)).toBeGreaterThanOrEqual(siteRank(rsImpact[rs.state]));
  }
  for (const g of status.vrrp) expect(siteRank(status.state)).toBeGreaterThanOrEqual(siteRank(groupImpact(g.state)));
}

describe('evaluateSite: invariants over generated report sets', () => {
  it('never green without a fresh report, split brain never operational, reasons for every non-green state, worst child bounds the parent', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { input, now } = inputOf(c);
        const before = JSON.stringify(input.nodes);
        const status = evaluateSite(null, input, now);
        checkInvariants(status, input, now);
        expect(JSON.stringify(input.nodes), 'inputs are not changed').toBe(before);
        expect(evaluateSite(null, input, now), 'same inputs, same status').toEqual(status);
      }),
      { numRuns: 400, seed: 0x5747 },
    );
  });

  it('a later evaluation on the same reports keeps the since of every part and reason whose state held', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { input, now } = inputOf(c);
        const first = evaluateSite(null, input, now);
        const later = now + c.later;
        const second = evaluateSite(first, input, later);
        checkInvariants(second, input, later);
        const a = allParts(first);
        const b = allParts(second);
        expect(b).toHaveLength(a.length);
        a.forEach((p, i) => {
          if (b[i].state === p.state) expect(b[i].since).toBe(p.since);
        });
        const sinceBefore = new Map(a.flatMap((p) => p.reasons).map((r) => [`${r.code}|${r.subject}`, r.since]));
        for (const r of b.flatMap((p) => p.reasons)) {
          const was = sinceBefore.get(`${r.code}|${r.subject}`);
          if (was) expect(r.since).toBe(was);
        }
      }),
      { numRuns: 200, seed: 0x5748 },
    );
  });
});

/** A director kept out of VRRP until `until` (ms): the status lists it while it is active. */
function maintenance(until: number): Override {
  return {
    kind: 'maintenance-director',
    id: 'ov-maint',
    node: 'dr1',
    until: new Date(until).toISOString(),
    author: 'alice',
    reason: 'kernel upgrade',
    createdAt: new Date(T0 - 3_600_000).toISOString(),
  } as Override;
}

describe('nextChangeAt: the same inputs give the same answer until then', () => {
  it('evaluated again at any time before it, on the same inputs and with the last answer, the answer is the same but for evaluatedAt', () => {
    fc.assert(
      fc.property(
        caseArb,
        caseArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.option(fc.integer({ min: -WINDOW, max: 4 * WINDOW }), { nil: null }),
        fc.boolean(),
        (c, earlier, frac, overrideEnds, longWindow) => {
          const { input: generated, now } = inputOf(c);
          // A long window keeps every report fresh past the span tried: the revision graces and the override decide.
          const base = longWindow ? { ...generated, staleAfterMs: 10 * WINDOW } : generated;
          const input: StatusInput = overrideEnds === null ? base : { ...base, overrides: [maintenance(now + overrideEnds)] };
          // The answer kept: made at `now` after an evaluation of other reports (or none), as the book keeps them.
          const before = c.later % 2 ? evaluateSite(null, inputOf(earlier).input, now - 5_000) : null;
          const kept = evaluateSite(before, input, now);
          const until = nextChangeAt(input, now);
          expect(until).toBeGreaterThan(now);
          // Any time from now up to the last millisecond before it (a finite span when nothing can change).
          const last = Math.min(until, now + 6 * WINDOW) - 1;
          const t = now + Math.floor(frac * (last - now));
          expect(evaluateSite(kept, input, t)).toEqual({ ...kept, evaluatedAt: iso(t) });
        },
      ),
      { numRuns: 400, seed: 0x5749 },
    );
  });

  it('is the moment a fresh report goes stale, a revision grace ends or an override ends, whichever is first; Infinity with none', () => {
    const site = makeSite({ directors: 2, realServers: 1, services: 1 });
    const at = T0 - 10_000;
    const reports = { dr1: fresh(report(site, 'dr1', {}, at), at), dr2: fresh(report(site, 'dr2', {}, at), at) };
    const input: StatusInput = { site, nodes: reports, staleAfterMs: WINDOW };
    expect(nextChangeAt(input, T0)).toBe(at + WINDOW + 1);
    // There dr1 and dr2 are no longer taken as truth: the answer changes.
    expect(evaluateSite(null, input, at + WINDOW + 1).state).not.toBe(evaluateSite(null, input, at + WINDOW).state);
    const late = { ...reports, rs1: fresh(report(site, 'rs1', { applied: 3 }, at), at, { revision: 4, at: T0 - 100_000 }) };
    expect(nextChangeAt({ ...input, nodes: late }, T0)).toBe(T0 - 100_000 + 120_000);
    expect(nextChangeAt({ ...input, overrides: [maintenance(T0 + 1_000)] }, T0)).toBe(T0 + 1_000);
    // Past the window, a will, an override ended: nothing left to change with time.
    expect(nextChangeAt({ ...input, overrides: [maintenance(T0 - 1)] }, T0 + WINDOW)).toBe(Infinity);
    expect(nextChangeAt({ site, nodes: {}, staleAfterMs: WINDOW }, T0)).toBe(Infinity);
  });
});
