import { nameList } from '#shared/util/name-list.ts';
import type { RolloutEventType } from '#shared/wire/events.ts';

/**
 * The staged rollout of one revision, decided without I/O (docs/architecture.md, "Staged rollout").
 *
 * A revision whose site has a rollout policy is written with its documents held back. This
 * planner releases them in stages: first the real servers and the BACKUP directors, then — once
 * every one of those reports the revision applied and stays healthy for the bake time — the
 * MASTER directors, which keep serving the VIPs on the old revision until then. Which director is
 * MASTER comes from the latest status reports when the rollout starts. When a released node
 * reports the revision failed, or health regresses (a real server down that was not down before,
 * a VRRP instance changing state), or a stage does not finish applying in time, the rollout rolls
 * back: the previous revision's configuration goes to exactly the nodes already released, and the
 * documents still held are never sent.
 */

export type RolloutState = 'pending' | 'running' | 'paused' | 'completed' | 'rolled_back' | 'aborted';
export const ACTIVE_STATES: readonly RolloutState[] = ['pending', 'running', 'paused'];

/** `all`: no node of the revision was reporting when it started, so there was no live traffic to stage against. */
type StageName = 'backups' | 'masters' | 'all';
interface Stage {
  name: StageName;
  nodes: string[];
}

/** What the site looked like when the rollout started: what counts as a regression is a change from this. */
interface Baseline {
  /** `node/instance` → VRRP state. */
  vrrp: Record<string, string>;
  /** `node/service/address:port` of every real server that was already down. */
  down: string[];
}

export interface Rollout {
  revision: number;
  /** The revision in force before: what a rollback restores. */
  previousRevision: number;
  bakeMs: number;
  stageTimeoutMs: number;
  /** Nodes whose configuration the revision changes (their documents are held until their stage). */
  nodes: { name: string; role: 'director' | 'realserver' }[];
  state: RolloutState;
  /** Empty until the rollout starts. */
  stages: Stage[];
  stage: number;
  stageStartedAt: number | null;
  /** When every node of the stage was first seen applied and healthy; the bake runs from here. */
  bakeStartedAt: number | null;
  /** Nodes whose documents were released, in order: exactly the nodes a rollback restores. */
  released: string[];
  /**
   * Nodes that reported (freshly) when the rollout started: a stage waits for these. A node nobody
   * could see then gets its document with its stage, but cannot hold the rollout up.
   */
  watched: string[];
  baseline: Baseline | null;
  /** Why the rollout ended the way it did (rolled back, aborted), for people. */
  reason: string | null;
}

/** One node's latest report, as the rollout needs it (the shell derives it from node_status and events). */
export interface NodeReport {
  /** Within the cloud's freshness window: an old report is not evidence of anything. */
  fresh: boolean;
  appliedRevision: number | null;
  /** A revision this node reported it failed to apply, with the error. */
  failed: { revision: number; error: string } | null;
  vrrp: { instance: string; state: string }[];
  /** `service/address:port` of real servers whose check ran and failed. */
  down: string[];
}
export type Reports = Readonly<Record<string, NodeReport>>;

export type RolloutEvent = { type: 'tick'; reports: Reports } | { type: 'pause' | 'resume' | 'abort'; by: string };

export type RolloutAction =
  | { type: 'release'; stage: StageName; nodes: string[] }
  /** Publish the previous revision to `nodes` (already released) and drop the held documents of `withheld`. */
  | { type: 'rollback'; toRevision: number; nodes: string[]; withheld: string[]; reason: string }
  | { type: 'event'; event: RolloutEventType; summary: string; data: Record<string, unknown> };

export interface StepResult {
  rollout: Rollout;
  actions: RolloutAction[];
}

/** A new rollout of `revision`, not started yet: the first tick decides the stages from the reports. */
export function newRollout(p: Pick<Rollout, 'revision' | 'previousRevision' | 'bakeMs' | 'stageTimeoutMs' | 'nodes'>): Rollout {
  return { ...p, state: 'pending', stages: [], stage: 0, stageStartedAt: null, bakeStartedAt: null, released: [], watched: [], baseline: null, reason: null };
}

/** The plan's parts only the driver reads, which `planToKeep` drops and the readers' queries leave out. */
export const DRIVER_PARTS = ['nodes', 'watched', 'baseline'] as const;

/**
 * A rollout as it is kept once it has ended: without the parts only the driver reads (the nodes it
 * changes, the nodes it watches, the health baseline). Nothing reads them after the end, and they
 * are most of a large site's plan: a 10,000-node rollout lists every node in `nodes` and
 * `watched`, besides its stages and its released nodes.
 */
export type EndedRollout = Omit<Rollout, (typeof DRIVER_PARTS)[number]>;

/** The plan to store: the whole plan while the rollout runs, without the driver's parts once it has ended. */
export function planToKeep(r: Rollout): Rollout | EndedRollout {
  if (isActive(r)) return r;
  const { nodes: _nodes, watched: _watched, baseline: _baseline, ...kept } = r;
  return kept;
}

export function isActive(r: Pick<Rollout, 'state'>): boolean {
  return ACTIVE_STATES.includes(r.state);
}

/**
 * One step of a rollout: a tick with the latest reports, or an operator's pause, resume or abort.
 * Pure: the same (rollout, event, now) always gives the same answer.
 */
export function stepRollout(r: Rollout, ev: RolloutEvent, now: number): StepResult {
  if (!isActive(r)) return { rollout: r, actions: [] };
  switch (ev.type) {
    case 'pause':
      return r.state === 'running' ? { rollout: { ...r, state: 'paused' }, actions: [] } : { rollout: r, actions: [] };
    case 'resume':
      // The stage gets its full time again and the bake starts over: nothing seen while paused counts.
      return r.state === 'paused'
        ? { rollout: { ...r, state: 'running', stageStartedAt: now, bakeStartedAt: null }, actions: [] }
        : { rollout: r, actions: [] };
    case 'abort':
      return rollBack(r, 'aborted', `aborted by ${ev.by}`);
    case 'tick':
      return r.state === 'pending' ? start(r, ev.reports, now) : tick(r, ev.reports, now);
  }
}

function start(r: Rollout, reports: Reports, now: number): StepResult {
  const backups: string[] = [];
  const masters: string[] = [];
  for (const n of r.nodes) {
    const rep = reports[n.name];
    if (n.role === 'realserver') backups.push(n.name);
    // A director nobody can see might be MASTER: it goes last, like a MASTER.
    else if (!rep?.fresh || rep.vrrp.some((v) => v.state === 'MASTER')) masters.push(n.name);
    else backups.push(n.name);
  }
  const watched = r.nodes.map((n) => n.name).filter((n) => reports[n]?.fresh);
  const stages: Stage[] = !watched.length
    ? [{ name: 'all' as const, nodes: r.nodes.map((n) => n.name) }].filter((s) => s.nodes.length)
    : [
        { name: 'backups' as const, nodes: backups },
        { name: 'masters' as const, nodes: masters },
      ].filter((s) => s.nodes.length);
  const baseline: Baseline = { vrrp: {}, down: [] };
  for (const [node, rep] of Object.entries(reports).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!rep.fresh) continue;
    for (const v of rep.vrrp) baseline.vrrp[`${node}/${v.instance}`] = v.state;
    for (const d of rep.down) baseline.down.push(`${node}/${d}`);
  }
  const started: Rollout = { ...r, state: 'running', stages, stage: 0, stageStartedAt: now, bakeStartedAt: null, watched, baseline };
  const plan = stages.map((s) => `${s.name}: ${nameList(s.nodes)}`).join('; ');
  const actions: RolloutAction[] = [
    event('rollout.started', `rollout of revision ${r.revision} started (${plan || 'no node changes'})`, r, { stages, bakeMs: r.bakeMs }),
  ];
  if (!stages.length) return complete(started, actions);
  const first = release(started, 0, actions, now);
  // Nothing reports: nothing to wait for or compare with. The documents go out as without a rollout.
  return watched.length ? first : complete(first.rollout, first.actions);
}

function tick(r: Rollout, reports: Reports, now: number): StepResult {
  const bad = failureOf(r, reports);
  if (bad) return rollBack(r, 'rolled_back', bad);
  if (r.state === 'paused') return { rollout: r, actions: [] };
  const stage = r.stages[r.stage];
  // A set: scanning the watched list for each node of a 10,000-node stage took 110 ms a tick, every second.
  const watched = new Set(r.watched);
  const waiting = stage.nodes.filter((n) => watched.has(n) && !appliedNow(reports[n], r.revision));
  if (waiting.length) {
    if (now - r.stageStartedAt! >= r.stageTimeoutMs)
      return rollBack(r, 'rolled_back', `${nameList(waiting)} did not report revision ${r.revision} applied within ${r.stageTimeoutMs} ms`, { waiting });
    return { rollout: r.bakeStartedAt === null ? r : { ...r, bakeStartedAt: null }, actions: [] };
  }
  if (r.bakeStartedAt === null) return { rollout: { ...r, bakeStartedAt: now }, actions: [] };
  if (now - r.bakeStartedAt < r.bakeMs) return { rollout: r, actions: [] };
  if (r.stage + 1 >= r.stages.length) return complete(r, []);
  return release(r, r.stage + 1, [], now);
}

function appliedNow(rep: NodeReport | undefined, revision: number): boolean {
  return !!rep?.fresh && (rep.appliedRevision ?? 0) >= revision;
}

/** Why the rollout must roll back now, or null: a released node failed to apply, or health regressed anywhere in the site. */
function failureOf(r: Rollout, reports: Reports): string | null {
  for (const node of r.released) {
    const rep = reports[node];
    if (rep?.failed && rep.failed.revision === r.revision) return `${node} failed to apply revision ${r.revision}: ${rep.failed.error}`;
  }
  const base = r.baseline!;
  const wasDown = new Set(base.down);
  // The regression of the first node in name order, as a scan of the reports sorted by name would
  // find it, without the sort: only a node named before the one found so far is looked at. At 10,000
  // nodes the sort was about a third of a tick (6.5 ms a tick before, 3.7-4.9 after), every second.
  let first: { node: string; why: string } | null = null;
  for (const node of Object.keys(reports)) {
    const rep = reports[node];
    if (!rep.fresh || (first && node >= first.node)) continue;
    const why = regressionOf(node, rep, base, wasDown, r.revision);
    if (why) first = { node, why };
  }
  return first?.why ?? null;
}

function regressionOf(node: string, rep: NodeReport, base: Baseline, wasDown: ReadonlySet<string>, revision: number): string | null {
  // A state change on any director counts: a held MASTER may lose the VIP to a backup the revision changed.
  for (const v of rep.vrrp) {
    const before = base.vrrp[`${node}/${v.instance}`];
    if (before !== undefined && before !== v.state) return `${node}: VRRP ${v.instance} ${before}→${v.state} during the rollout`;
  }
  // So does a real server newly down as any director sees it: a released real server can break while its director is held.
  for (const d of rep.down) if (!wasDown.has(`${node}/${d}`)) return `${node}: real server ${d} is down since revision ${revision} was released`;
  return null;
}

function release(r: Rollout, index: number, actions: RolloutAction[], now: number): StepResult {
  const stage = r.stages[index];
  const next: Rollout = { ...r, stage: index, stageStartedAt: now, bakeStartedAt: null, released: [...r.released, ...stage.nodes] };
  return {
    rollout: next,
    actions: [
      ...actions,
      { type: 'release', stage: stage.name, nodes: stage.nodes },
      event('rollout.stage', `revision ${r.revision}: stage ${index + 1}/${r.stages.length} (${stage.name}) released to ${nameList(stage.nodes)}`, r, {
        stage: stage.name,
        index,
        nodes: stage.nodes,
      }),
    ],
  };
}

function complete(r: Rollout, actions: RolloutAction[]): StepResult {
  return {
    rollout: { ...r, state: 'completed', bakeStartedAt: null },
    actions: [...actions, event('rollout.completed', `rollout of revision ${r.revision} completed on ${r.released.length} node(s)`, r, { nodes: r.released })],
  };
}

/** `detail`: more of the reason, as data (the reason names at most a few nodes). */
function rollBack(r: Rollout, state: 'rolled_back' | 'aborted', reason: string, detail: Record<string, unknown> = {}): StepResult {
  const released = new Set(r.released);
  const withheld = r.nodes.map((n) => n.name).filter((n) => !released.has(n));
  const done: Rollout = { ...r, state, reason, bakeStartedAt: null };
  const what = r.released.length ? `revision ${r.previousRevision} restored on ${nameList(r.released)}` : 'no node had received it';
  const type = state === 'aborted' ? 'rollout.aborted' : 'rollout.rolled_back';
  return {
    rollout: done,
    actions: [
      { type: 'rollback', toRevision: r.previousRevision, nodes: r.released, withheld, reason },
      event(type, `rollout of revision ${r.revision} ${state === 'aborted' ? 'aborted' : 'rolled back'} (${reason}); ${what}`, r, {
        reason,
        ...detail,
        nodes: r.released,
        withheld,
        toRevision: r.previousRevision,
      }),
    ],
  };
}

function event(type: RolloutEventType, summary: string, r: Rollout, data: Record<string, unknown>): RolloutAction {
  return { type: 'event', event: type, summary, data: { revision: r.revision, ...data, summary } };
}
