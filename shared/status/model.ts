/**
 * The fleet status model: closed sets of states for a site and its parts, the reasons that
 * explain them, and their badge colours. Pure data and small total functions; `evaluate.ts`
 * derives a `SiteStatus` from the spec and the nodes' last reports.
 */

/** Site and service: Statuspage's component words, plus `unknown` when the cloud cannot see. */
export const SITE_STATES = ['operational', 'degraded_performance', 'partial_outage', 'major_outage', 'unknown'] as const;
export type SiteState = (typeof SITE_STATES)[number];
export type ServiceState = SiteState;

/** One VRRP instance across its members. */
export const GROUP_STATES = ['ok', 'split_brain', 'no_master', 'unknown'] as const;
export type GroupState = (typeof GROUP_STATES)[number];

/** One real server of one service, as the reporting director sees it. */
export const REALSERVER_STATES = ['up', 'down', 'unchecked', 'unknown'] as const;
export type RealServerState = (typeof REALSERVER_STATES)[number];

/** One node: `online` means a fresh report with nothing wrong in it. */
export const NODE_STATES = ['online', 'degraded', 'offline', 'unknown'] as const;
export type NodeState = (typeof NODE_STATES)[number];

export type AnyState = SiteState | GroupState | RealServerState | NodeState;

/** Stable machine codes; the text beside each one is for people and may change. */
export type ReasonCode =
  | 'unreachable'
  | 'never_reported'
  | 'node_offline'
  | 'stale_report'
  | 'stale_revision'
  | 'apply_failed'
  | 'ipvs_error'
  | 'realserver_setup'
  | 'split_brain'
  | 'no_master'
  | 'instance_missing'
  | 'quorum_lost'
  | 'no_realservers'
  | 'all_realservers_down'
  | 'realserver_down'
  | 'unchecked'
  | 'service_missing'
  | 'realserver_missing';

/**
 * Why a state is not green. `subject` names what the reason is about (`site`, `node:dr2`,
 * `vrrp:VI_1`, `service:web`, `realserver:web/10.0.0.11:80`); code + subject identify a
 * condition across evaluations, so its `since` survives while it lasts.
 */
export interface Reason {
  code: ReasonCode;
  subject: string;
  text: string;
  /** ISO time the condition began, as far as the inputs tell; null when they do not. */
  since: string | null;
}

export type BadgeColour = 'green' | 'yellow' | 'orange' | 'red' | 'grey';

const COLOURS: Record<AnyState, BadgeColour> = {
  operational: 'green',
  ok: 'green',
  up: 'green',
  online: 'green',
  degraded_performance: 'yellow',
  degraded: 'yellow',
  partial_outage: 'orange',
  major_outage: 'red',
  split_brain: 'red',
  no_master: 'red',
  down: 'red',
  offline: 'red',
  unknown: 'grey',
  unchecked: 'grey',
};

export function badgeColour(state: AnyState): BadgeColour {
  return COLOURS[state];
}

/** The states that may be shown green; every other state carries at least one reason. */
export function isGreen(state: AnyState): boolean {
  return badgeColour(state) === 'green';
}

/**
 * Order of site/service states, best first. `unknown` sits just above `operational`: not seeing
 * is never green, but a problem the cloud does see (any outage) says more than not seeing.
 */
const RANK: Record<SiteState, number> = { operational: 0, unknown: 1, degraded_performance: 2, partial_outage: 3, major_outage: 4 };

export function siteRank(s: SiteState): number {
  return RANK[s];
}

export function worse(a: SiteState, b: SiteState): SiteState {
  return RANK[b] > RANK[a] ? b : a;
}

/** What a VRRP group's state means for the site: no master and split brain are outages. */
export function groupImpact(s: GroupState): SiteState {
  switch (s) {
    case 'ok':
      return 'operational';
    case 'split_brain':
    case 'no_master':
      return 'major_outage';
    case 'unknown':
      return 'unknown';
  }
}

interface Part<S> {
  state: S;
  /** ISO time the current state began (kept from the previous evaluation while unchanged). */
  since: string;
  reasons: Reason[];
}

export interface NodeStatusEntry extends Part<NodeState> {
  name: string;
  role: 'director' | 'realserver';
  appliedRevision: number | null;
  /** When the cloud last received a report from the node; null when never. */
  lastReportAt: string | null;
}

export interface GroupStatus extends Part<GroupState> {
  instance: string;
  vrid: number;
  /** Members seen MASTER in a fresh report. */
  masters: string[];
  /** Each member's state from its fresh report; `unseen` when the report is missing or stale, `missing` when it lacks the instance. */
  members: { node: string; state: 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP' | 'unseen' | 'missing' }[];
}

export interface RealServerStatus extends Part<RealServerState> {
  address: string;
  port: number;
  node: string | null;
  /** The health checker's last word, as reported. */
  detail: string | null;
}

export interface ServiceStatus extends Part<ServiceState> {
  name: string;
  endpoint: string;
  /** The VRRP instance that carries the service's VIP, if any. */
  group: string | null;
  /** The director whose report was used: the VIP's master first. */
  reportedBy: string | null;
  realServers: RealServerStatus[];
}

/**
 * An operational override in force (a drain, maintenance, failover, disabled service): planned,
 * so it changes no state by itself, but people reading the status must see it and why.
 */
interface OverrideNotice {
  id: string;
  kind: string;
  until: string;
  author: string;
  /** "rs1 drained for maintenance until 03:30 UTC by alice". */
  text: string;
}

export interface SiteStatus extends Part<SiteState> {
  site: string;
  evaluatedAt: string;
  nodes: NodeStatusEntry[];
  vrrp: GroupStatus[];
  services: ServiceStatus[];
  /** Active operational overrides (absent from evaluations made before overrides existed). */
  overrides?: OverrideNotice[];
}
