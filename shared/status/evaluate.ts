import { describeOverride, isActive, type Override } from '../overrides/override.ts';
import { formatHostPort } from '../util/ip.ts';
import type { Site } from '../site/site.ts';
import type { NodeStatus } from '../wire/status.ts';
import {
  groupImpact,
  worse,
  type GroupStatus,
  type NodeState,
  type NodeStatusEntry,
  type Reason,
  type RealServerStatus,
  type ServiceState,
  type ServiceStatus,
  type SiteState,
  type SiteStatus,
} from './model.ts';
import { iso, latestSince, ReasonBook, spoken, unique, type Draft } from './reasons.ts';
import { topologyOf, type Topology } from './topology.ts';

/** What the cloud knows of one node. */
export interface NodeInput {
  /** The node's last status document (a last will keeps the document the node sent before it). */
  status: NodeStatus | null;
  /** Presence: false once the broker delivered the node's last will. */
  online: boolean;
  /** When the cloud last received a message from the node (ms since the epoch); null when never. */
  receivedAt: number | null;
  /** The revision published to the node and when (ms); null when none was. */
  desired?: { revision: number; at: number } | null;
}

export interface StatusInput {
  /** The validated spec of the revision in force. */
  site: Site;
  /** Keyed by node name; a node of the spec that is missing here has never reported. */
  nodes: Readonly<Record<string, NodeInput | undefined>>;
  /** A report older than this is not taken as truth. */
  staleAfterMs: number;
  /** How long a node may run an older revision than desired before it is called stale (default 2 minutes). */
  revisionGraceMs?: number;
  /** The site's operational overrides; those active at `now` are listed with their line for people. */
  overrides?: readonly Override[];
}

const DEFAULT_REVISION_GRACE_MS = 120_000;

type VrrpEntry = NonNullable<NodeStatus['vrrp']>[number];

/** One node as the cloud sees it now. */
interface Seen {
  entry: NodeStatusEntry;
  /** The report, when it is fresh and the node online: the only kind the model takes as truth. */
  fresh: NodeStatus | null;
  /** When the fresh report was made (its `at`, else its receipt). */
  at: number;
  /** Why the node is not seen (never, offline, stale), for the parts that depend on it. */
  unseen: Reason | null;
  /** When it went out of view: its last will, or its last report plus the window; null when seen or never seen. */
  dark: number | null;
}

/**
 * The status of one site. Pure: `(previous, input, now) → status`. `previous` is the last
 * evaluation of the same site (or null): a part whose state did not change keeps its `since`,
 * and so does every reason that still holds.
 *
 * Rules, in short. Only a fresh report (online, received within `staleAfterMs`) counts. A VRRP
 * group with members reporting but none MASTER is `no_master`; with no member seen it is
 * `unknown` (`unreachable`), never green. A real server without a health check is `unchecked`
 * and never counts as up. A site none of whose directors is seen is `unknown` (`unreachable`).
 */
export function evaluateSite(previous: SiteStatus | null, input: StatusInput, now: number): SiteStatus {
  const topo = topologyOf(input.site);
  const prev = previous?.site === topo.site ? previous : null;
  const book = new ReasonBook(prev, now);
  const ctx: Ctx = { topo, input, now, book, prev, before: indexPrevious(prev) };

  const seen = new Map(topo.nodes.map((n) => [n.name, seeNode(ctx, n)]));
  const groups = topo.groups.map((g) => evaluateGroup(ctx, g, seen));
  const byGroup = new Map(groups.map((g) => [g.instance, g]));
  const services = topo.services.map((s) => evaluateService(ctx, s, seen, byGroup));
  const nodes = [...seen.values()].map((s) => s.entry);

  const watched = topo.directors.length ? topo.directors : topo.nodes.map((n) => n.name);
  const visible = watched.some((n) => seen.get(n)!.fresh);
  let state: SiteState = 'operational';
  const own: Reason[] = [];
  if (!visible) {
    state = 'unknown';
    own.push(book.settle(unreachable('site', topo.site, watched, seen, topo.directors.length ? 'director' : 'node')));
  } else {
    for (const g of groups) state = worse(state, groupImpact(g.state));
    for (const s of services) state = worse(state, s.state);
    // A node not seen or not in shape costs margin even while every service still serves.
    if (nodes.some((n) => n.state !== 'online')) state = worse(state, 'degraded_performance');
  }
  const reasons = unique([...own, ...nodes.flatMap((n) => n.reasons), ...groups.flatMap((g) => g.reasons), ...services.flatMap((s) => s.reasons)]);
  return {
    site: topo.site,
    evaluatedAt: iso(now),
    state,
    // The parts' times are read only when the site's state changed: otherwise its since is carried.
    since: sinceOf(ctx, prev, state, () => latestSince(reasons) ?? latestPartSince(nodes, groups, services)),
    reasons,
    nodes,
    vrrp: groups,
    services,
    overrides: (input.overrides ?? [])
      .filter((o) => isActive(o, now))
      .map((o) => ({ id: o.id, kind: o.kind, until: o.until, author: o.author, text: describeOverride(o) })),
  };
}

/**
 * The latest `since` of the site's parts, when no reason dates the site's state. A loop, not a
 * spread into Math.max: a site of some 100,000 parts would overflow the call's arguments.
 */
function latestPartSince(...lists: { since: string }[][]): number | null {
  let best = -Infinity;
  for (const list of lists) for (const p of list) best = Math.max(best, Date.parse(p.since));
  return Number.isFinite(best) ? best : null;
}

/**
 * The earliest time after `now` at which `evaluateSite` can answer differently for these same
 * inputs, time alone moving: a fresh report goes stale (seeNode: fresh while now − receivedAt ≤
 * staleAfterMs), a node's revision grace ends (seeNode's stale_revision), an override ends
 * (isActive). Before then, evaluating the same inputs with the last answer as `previous` gives
 * that answer again, `evaluatedAt` aside: every part keeps its state, so its `since` and its
 * reasons' are carried. Infinity when nothing can change with time. Conservative: a bound that
 * comes early only costs an evaluation.
 */
export function nextChangeAt(input: StatusInput, now: number): number {
  const grace = input.revisionGraceMs ?? DEFAULT_REVISION_GRACE_MS;
  let next = Infinity;
  for (const r of Object.values(input.nodes)) {
    if (!r) continue;
    if (r.receivedAt !== null && now - r.receivedAt <= input.staleAfterMs) next = Math.min(next, r.receivedAt + input.staleAfterMs + 1);
    if (r.desired && now - r.desired.at < grace) next = Math.min(next, r.desired.at + grace);
  }
  for (const o of input.overrides ?? []) {
    const until = Date.parse(o.until);
    if (until > now) next = Math.min(next, until);
  }
  return next;
}

interface Ctx {
  topo: Topology;
  input: StatusInput;
  now: number;
  book: ReasonBook;
  prev: SiteStatus | null;
  /** The previous evaluation's parts by name, for their `since`. */
  before: Previous;
}

/**
 * The previous evaluation's nodes, groups and services by name, and each service's real servers
 * by address and port. Looked up by a scan of the lists, a 10,000-node site cost 5 × 10⁷ name
 * comparisons per evaluation (seconds, at every alerting round and status page).
 */
interface Previous {
  nodes: Map<string, NodeStatusEntry>;
  groups: Map<string, GroupStatus>;
  services: Map<string, { status: ServiceStatus; realServers: Map<string, RealServerStatus> }>;
}

function indexPrevious(prev: SiteStatus | null): Previous {
  return {
    nodes: firstByKey(prev?.nodes ?? [], (n) => n.name),
    groups: firstByKey(prev?.vrrp ?? [], (g) => g.instance),
    services: new Map(
      [...firstByKey(prev?.services ?? [], (s) => s.name)].map(([name, status]) => [
        name,
        { status, realServers: firstByKey(status.realServers, endpointKey) },
      ]),
    ),
  };
}

/** A real server's subject in reasons, and its label in their texts. */
const rsSubject = (service: string, rs: { address: string; port: number }) => `realserver:${service}/${formatHostPort(rs.address, rs.port)}`;
const rsLabel = (service: string, rs: { address: string; port: number }) => `${service} ${formatHostPort(rs.address, rs.port)}`;

/** A real server's key in a service: its address and port. */
const endpointKey = (rs: { address: string; port: number }) => `${rs.address}|${rs.port}`;

/** Items by key, the first of equal keys kept (as a scan finds it). */
function firstByKey<T>(items: readonly T[], key: (x: T) => string): Map<string, T> {
  const m = new Map<string, T>();
  for (const x of items) {
    const k = key(x);
    if (!m.has(k)) m.set(k, x);
  }
  return m;
}

/**
 * Keeps `since` while the state is unchanged; otherwise the inputs' time, never in the future.
 * `derived` may be a function, called only when the state changed (the site's reads every part).
 */
function sinceOf(ctx: Ctx, prev: { state: string; since: string } | undefined | null, state: string, derived: number | null | (() => number | null)): string {
  if (prev && prev.state === state) return prev.since;
  const t = typeof derived === 'function' ? derived() : derived;
  return iso(Math.min(ctx.now, t ?? ctx.now));
}

function seeNode(ctx: Ctx, n: Topology['nodes'][number]): Seen {
  const { input, now, book } = ctx;
  const r = input.nodes[n.name];
  const subject = `node:${n.name}`;

  if (!r || r.receivedAt === null || r.status === null) {
    const why = book.settle({ code: 'never_reported', subject, since: null, say: () => `${n.name} has never reported` });
    return { entry: nodeEntry(ctx, n, r, 'unknown', [why], null), fresh: null, at: now, unseen: why, dark: null };
  }
  const receivedAt = r.receivedAt;
  if (!r.online || !r.status.online) {
    const why = book.settle({ code: 'node_offline', subject, since: receivedAt, say: (s) => `${n.name} offline since ${s}` });
    return { entry: nodeEntry(ctx, n, r, 'offline', [why], receivedAt), fresh: null, at: receivedAt, unseen: why, dark: receivedAt };
  }
  if (now - receivedAt > input.staleAfterMs) {
    const why = book.settle({
      code: 'stale_report',
      subject,
      since: receivedAt + input.staleAfterMs,
      say: () => `${n.name} has not reported since ${iso(receivedAt)} (more than ${spoken(input.staleAfterMs)})`,
    });
    return {
      entry: nodeEntry(ctx, n, r, 'unknown', [why], receivedAt + input.staleAfterMs),
      fresh: null,
      at: receivedAt,
      unseen: why,
      dark: receivedAt + input.staleAfterMs,
    };
  }

  const st = r.status;
  const at = st.at !== undefined ? Math.min(Date.parse(st.at), receivedAt) : receivedAt;
  const problems: Draft[] = [];
  const applied = st.appliedRevision ?? null;
  const errors = st.errors ?? [];
  if (st.pendingRevision != null && st.pendingRevision !== applied && errors.length) {
    const rev = st.pendingRevision;
    problems.push({ code: 'apply_failed', subject, since: at, say: () => `${n.name} failed to apply revision ${rev}: ${errors[0]}` });
  } else if (r.desired && (applied ?? 0) < r.desired.revision) {
    const grace = input.revisionGraceMs ?? DEFAULT_REVISION_GRACE_MS;
    const d = r.desired;
    if (now - d.at >= grace)
      problems.push({
        code: 'stale_revision',
        subject,
        since: d.at + grace,
        say: () => `${n.name} runs revision ${applied ?? 'none'}, desired ${d.revision} (published ${iso(d.at)})`,
      });
  }
  if (st.ipvs && !st.ipvs.ok) {
    const e = st.ipvs.error ?? 'unknown error';
    problems.push({ code: 'ipvs_error', subject, since: at, say: () => `${n.name}: IPVS not as desired: ${e}` });
  }
  if (st.realServer && !st.realServer.ok) {
    const drift = st.realServer.drift?.join(', ') || 'not set up';
    problems.push({ code: 'realserver_setup', subject, since: at, say: () => `${n.name}: real-server setup not in place: ${drift}` });
  }
  const reasons = problems.map((d) => book.settle(d));
  return {
    entry: nodeEntry(ctx, n, r, reasons.length ? 'degraded' : 'online', reasons, reasons.length ? latestSince(reasons) : receivedAt),
    fresh: st,
    at,
    unseen: null,
    dark: null,
  };
}

/**
 * A node's entry, built whole in the order its members are written. Spread from a shared base
 * object and a closure made per node, the entries of a 10,000-node site took half of each
 * evaluation (about 50 ms of 100 here).
 */
function nodeEntry(
  ctx: Ctx,
  n: Topology['nodes'][number],
  r: NodeInput | undefined,
  state: NodeState,
  reasons: Reason[],
  derived: number | null,
): NodeStatusEntry {
  return {
    name: n.name,
    role: n.role,
    appliedRevision: r?.status?.appliedRevision ?? null,
    lastReportAt: r?.receivedAt != null ? iso(r.receivedAt) : null,
    state,
    since: sinceOf(ctx, ctx.before.nodes.get(n.name), state, derived),
    reasons,
  };
}

/** `unreachable` (or `never_reported` when none of them ever reported) for a part that depends on `nodes`. */
function unreachable(kind: string, name: string, nodes: string[], seen: Map<string, Seen>, noun: string): Draft {
  const subject = kind === 'site' ? 'site' : `${kind}:${name}`;
  const list = nodes.map((n) => seen.get(n)!);
  if (list.every((s) => s.unseen?.code === 'never_reported'))
    return { code: 'never_reported', subject, since: null, say: () => `${name}: no ${noun} has ever reported` };
  // It went dark when the last of them did.
  const dark = Math.max(...list.map((s) => s.dark ?? -Infinity));
  const last = Math.max(...list.map((s) => (s.unseen?.code === 'never_reported' ? -Infinity : s.at)));
  return {
    code: 'unreachable',
    subject,
    since: Number.isFinite(dark) ? dark : null,
    say: () => `${name}: no ${noun} reachable (${nodes.join(', ')}); last report ${iso(last)}`,
  };
}

function evaluateGroup(ctx: Ctx, g: Topology['groups'][number], seen: Map<string, Seen>): GroupStatus {
  const { book } = ctx;
  const subject = `vrrp:${g.name}`;
  const reported: { node: string; v: VrrpEntry; at: number }[] = [];
  const members = g.members.map((node) => {
    const s = seen.get(node)!;
    if (!s.fresh) return { node, state: 'unseen' as const };
    const v = s.fresh.vrrp?.find((x) => x.instance === g.name);
    if (!v) return { node, state: 'missing' as const };
    reported.push({ node, v, at: s.at });
    return { node, state: v.state };
  });
  const masters = reported.filter((r) => r.v.state === 'MASTER');
  const sinceOfMember = (r: (typeof reported)[number]) => (r.v.since !== undefined ? Date.parse(r.v.since) : r.at);
  const unseenReasons = g.members.flatMap((n) => seen.get(n)!.unseen ?? []);

  let state: GroupStatus['state'];
  let reasons: Reason[];
  if (masters.length > 1) {
    state = 'split_brain';
    const names = masters.map((m) => m.node);
    reasons = [
      book.settle({
        code: 'split_brain',
        subject,
        // The split began when the last of them became MASTER.
        since: Math.max(...masters.map(sinceOfMember)),
        say: () =>
          `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} are ${names.length === 2 ? 'both' : 'all'} MASTER for ${g.name} (VRID ${g.vrid})`,
      }),
      ...unseenReasons,
    ];
  } else if (masters.length === 1) {
    state = 'ok';
    reasons = [];
  } else if (reported.length) {
    state = 'no_master';
    const states = reported.map((r) => `${r.node} ${r.v.state}`).join(', ');
    reasons = [
      book.settle({
        code: 'no_master',
        subject,
        // No master seen since the latest member transition, or since a member that may have been MASTER went out of view.
        since: Math.max(...reported.map(sinceOfMember), ...g.members.map((n) => seen.get(n)!.dark ?? -Infinity)),
        say: (s) => `${g.name}: no director is MASTER${s ? ` since ${s}` : ''} (${states})`,
      }),
      ...unseenReasons,
    ];
  } else {
    state = 'unknown';
    const anyFresh = g.members.some((n) => seen.get(n)!.fresh);
    const why: Draft = anyFresh
      ? {
          code: 'instance_missing',
          subject,
          since: null,
          say: () => `${g.name} is in no report of ${g.members.filter((n) => seen.get(n)!.fresh).join(', ')} (revision not applied yet?)`,
        }
      : unreachable('vrrp', g.name, g.members, seen, 'member');
    reasons = [book.settle(why), ...unseenReasons];
  }
  const prevGroup = ctx.before.groups.get(g.name);
  const derived = state === 'ok' ? sinceOfMember(masters[0]) : latestSince(reasons);
  return {
    instance: g.name,
    vrid: g.vrid,
    masters: masters.map((m) => m.node),
    members,
    state,
    since: sinceOf(ctx, prevGroup, state, derived),
    reasons: unique(reasons),
  };
}

function evaluateService(ctx: Ctx, svc: Topology['services'][number], seen: Map<string, Seen>, groups: Map<string, GroupStatus>): ServiceStatus {
  const { book } = ctx;
  const subject = `service:${svc.name}`;
  const group = svc.group ? groups.get(svc.group)! : null;
  const mastersOfVip = new Set(group?.masters ?? []);
  const anyMaster = new Set([...groups.values()].flatMap((g) => g.masters));
  // The VIP's master carries the traffic, so its checks are the ones that matter; any fresh director's will do otherwise.
  const reporters = svc.directors
    .filter((d) => seen.get(d)?.fresh?.services?.some((s) => s.name === svc.name))
    .sort((a, b) => Number(mastersOfVip.has(b)) - Number(mastersOfVip.has(a)) || Number(anyMaster.has(b)) - Number(anyMaster.has(a)) || a.localeCompare(b));
  const reporter = reporters[0] ?? null;
  const before = ctx.before.services.get(svc.name);
  const prevSvc = before?.status;

  let state: ServiceState;
  let own: Reason[] = [];
  let realServers: RealServerStatus[];
  if (!reporter) {
    const anyFresh = svc.directors.some((d) => seen.get(d)?.fresh);
    const why = book.settle(
      anyFresh
        ? {
            code: 'service_missing',
            subject,
            since: null,
            say: () => `${svc.name} is in no report of ${svc.directors.filter((d) => seen.get(d)?.fresh).join(', ')} (revision not applied yet?)`,
          }
        : unreachable('service', svc.name, svc.directors, seen, 'director serving it'),
    );
    state = 'unknown';
    own = [why];
    realServers = svc.realServers.map((rs) => {
      const prevRs = before?.realServers.get(endpointKey(rs));
      return {
        address: rs.address,
        port: rs.port,
        node: rs.node,
        detail: null,
        state: 'unknown',
        since: sinceOf(ctx, prevRs, 'unknown', latestSince([why])),
        reasons: [why],
      };
    });
  } else {
    const s = seen.get(reporter)!;
    const report = s.fresh!.services!.find((x) => x.name === svc.name)!;
    const reported = firstByKey(report.realServers, endpointKey);
    realServers = svc.realServers.map((rs) => {
      const key = endpointKey(rs);
      const hit = reported.get(key);
      let st: RealServerStatus['state'];
      let reasons: Reason[] = [];
      // The subject and the label are written only for a real server that has a reason: most of a
      // large site's are up, and need neither.
      if (!hit) {
        st = 'unknown';
        const label = rsLabel(svc.name, rs);
        reasons = [
          book.settle({ code: 'realserver_missing', subject: rsSubject(svc.name, rs), since: null, say: () => `${label} is not in ${reporter}'s report` }),
        ];
      } else if (!rs.checked || hit.checked === false) {
        st = 'unchecked';
        const label = rsLabel(svc.name, rs);
        const why = rs.checked ? `has not been checked yet by ${reporter}` : 'has no health check';
        reasons = [book.settle({ code: 'unchecked', subject: rsSubject(svc.name, rs), since: null, say: () => `${label} ${why}` })];
      } else if (hit.healthy) {
        st = 'up';
      } else {
        st = 'down';
        const label = rsLabel(svc.name, rs);
        const detail = hit.detail ? `: ${hit.detail}` : '';
        reasons = [
          book.settle({
            code: 'realserver_down',
            subject: rsSubject(svc.name, rs),
            since: s.at,
            say: (t) => `${label} down${t ? ` since ${t}` : ''}${detail} (checked by ${reporter})`,
          }),
        ];
      }
      const prevRs = before?.realServers.get(key);
      return {
        address: rs.address,
        port: rs.port,
        node: rs.node,
        detail: hit?.detail ?? null,
        state: st,
        since: sinceOf(ctx, prevRs, st, st === 'up' ? s.at : latestSince(reasons)),
        reasons,
      };
    });
    const count = (x: RealServerStatus['state']) => realServers.filter((r) => r.state === x).length;
    const [up, down, total] = [count('up'), count('down'), realServers.length];
    state = 'operational';
    if (total === 0) {
      state = 'major_outage';
      own.push(book.settle({ code: 'no_realservers', subject, since: null, say: () => `${svc.name} has no real servers` }));
    } else if (down === 0) {
      if (up < total) state = 'unknown';
    } else if (down === total) {
      state = 'major_outage';
      own.push(book.settle({ code: 'all_realservers_down', subject, since: s.at, say: () => `${svc.name}: all ${total} real servers down` }));
    } else {
      // Half the pool or more gone, or none of the rest verified up: what is left is likely overloaded, or unproven.
      state = up === 0 || down * 2 >= total ? 'partial_outage' : 'degraded_performance';
    }
    if (!report.quorum) {
      state = worse(state, 'major_outage');
      own.push(
        book.settle({
          code: 'quorum_lost',
          subject,
          since: s.at,
          say: () => `${svc.name}: healthy weight below its quorum of ${svc.quorum} (per ${reporter})`,
        }),
      );
    }
  }
  // The VIP's VRRP group decides whether traffic reaches any director at all.
  if (group && group.state !== 'ok') {
    state = worse(state, group.state === 'no_master' ? 'major_outage' : group.state === 'split_brain' ? 'partial_outage' : 'unknown');
    own.push(...group.reasons);
  }
  const reasons = unique([...own, ...realServers.flatMap((r) => (r.state === 'up' || r.reasons.every((x) => own.includes(x)) ? [] : r.reasons))]);
  const reporterAt = reporter ? seen.get(reporter)!.at : null;
  return {
    name: svc.name,
    endpoint: svc.endpoint,
    group: svc.group,
    reportedBy: reporter,
    realServers,
    state,
    since: sinceOf(ctx, prevSvc, state, latestSince(reasons) ?? reporterAt),
    reasons,
  };
}
