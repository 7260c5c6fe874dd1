import type { VrrpState } from '#shared/wire/status.ts';
import type { SyncDaemon } from '../dataplane/vrrp-host.ts';

export type { VrrpState };

/** What the pure machine needs to know about one instance (from NodeConfig's ResolvedInstance). */
export interface InstanceParams {
  name: string;
  vrid: number;
  version: 2 | 3;
  /** Configured priority (1–255). 255 = address owner (RFC 5798 §6.4.1). */
  priority: number;
  /** This router's primary address: advert source and tie-break key (RFC 5798 §6.4.3). */
  primaryAddress: string;
  advertIntervalMs: number;
  /** keepalived `state MASTER`: take over after one advert interval instead of the full down interval. */
  initialState: 'MASTER' | 'BACKUP';
  preempt: boolean;
  /** keepalived preempt_delay: how long a lower-priority master is tolerated before preempting. */
  preemptDelayMs: number;
  garp: {
    masterDelayMs: number;
    masterRepeat: number;
    masterRefreshMs: number;
    masterRefreshRepeat: number;
    /** keepalived vrrp_garp_lower_prio_repeat: burst when a MASTER hears a lower-priority master; unset = masterRepeat (keepalived's default). */
    lowerPrioRepeat?: number;
  };
  /** keepalived lvs_sync_daemon follows this instance. */
  connectionSync: boolean;
  /**
   * lvsfleet drain/maintenance override: never take MASTER; as MASTER, hand over once the peer is
   * confirmed ready (it preempted us, or a `peer-ready` says so). Absent = false.
   */
  maintenance?: boolean;
  /**
   * lvsfleet failover override, this node the target: a lower-priority master it hears is taken
   * over after Skew_Time (as after a priority-0 advert), not Master_Down_Interval. Absent = false.
   */
  failoverTarget?: boolean;
}

/** The whole state of one instance: plain data, so tests and the simulator can inspect it. */
export interface InstanceState {
  state: VrrpState;
  since: number;
  /** Priority after track scripts and track interfaces (keepalived effective_priority). */
  effectivePriority: number;
  /** The instance's own fault (tracked interface with weight 0 down) and its sync group's. */
  ownFault: string | null;
  groupFault: string | null;
  /** v3: the interval learned from the current master; v2: ours. */
  masterAdverIntervalMs: number;
  /** Deadlines on the monotonic clock (ms), null = not armed. */
  masterDownAt: number | null;
  advertAt: number | null;
  /** When a tolerated lower-priority master may be preempted (preempt_delay). */
  preemptAt: number | null;
  garpAt: number | null;
  /** Which GARP round is next: 'delay' = the second burst after garp_master_delay, 'refresh' = periodic. */
  garpNext: 'delay' | 'refresh' | null;
  /** When to repeat the burst answering a lower-priority master (one advert interval after its last advert). */
  lowerPrioGarpAt: number | null;
  /** Primary address of the master we last accepted adverts from. */
  masterAddress: string | null;
  /**
   * The router handing the VRID to us: the source of a priority-0 advert, or of the lower-priority
   * adverts we are preempting (it steps down when it hears us). Null when a master is accepted or
   * none is known; never set by a master that merely went silent (a crash).
   */
  handoverFrom: string | null;
  /** When we last heard the master, for the "master down, N ms" log line. */
  lastAdvertAt: number | null;
  /** The priority in the master's last accepted advert (a failover target compares its new one to it). */
  masterPriority: number | null;
  /** Priority of the lower master whose adverts we are discarding to preempt it. */
  preempting: number | null;
}

export type Event =
  | { type: 'start' }
  | { type: 'advert'; source: string; priority: number; intervalMs: number }
  /** The driver fires this at (or after) the earliest deadline; step works out which expired. */
  | { type: 'timer' }
  /** Tracking changed: new effective priority and/or own fault reason (null = healthy). */
  | { type: 'track'; effectivePriority: number; fault: string | null; reason: string }
  /** Sync group: another member moved (keepalived vrrp_sync_group). */
  | { type: 'sync'; to: 'MASTER' | 'BACKUP' | 'FAULT' | 'CLEAR'; member: string }
  /** Graceful stop: MASTER sends priority 0 (RFC 5798 §6.4.3 Shutdown). */
  | { type: 'shutdown' }
  /**
   * BFD says the router at `address` is gone (its session went Down). Sent only for an instance
   * whose one peer that router is, so there is no other backup to order with Skew_Time.
   */
  | { type: 'peer-down'; address: string; reason: string }
  /**
   * The peer is confirmed up and able to take over (its BFD session is Up). A MASTER in
   * maintenance then releases at once with a priority-0 advert; otherwise nothing happens.
   */
  | { type: 'peer-ready'; reason: string };

export type Action =
  | { type: 'send-advert'; priority: number }
  | { type: 'add-vips' }
  | { type: 'remove-vips' }
  | { type: 'garp'; count: number }
  | { type: 'notify'; state: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP'; priority: number }
  | { type: 'transition'; from: VrrpState; to: VrrpState; reason: string; sync: boolean }
  /** Run exactly these IPVS connection-sync daemons (none: stop both); see sync-daemons.ts. */
  | { type: 'sync-daemon'; daemons: SyncDaemon[] }
  /**
   * Drop, instead of resetting, mid-stream TCP to the VIPs that IPVS does not know
   * (`releaseAfterMs` null: until told otherwise; a number: stop after that long), sending a copy
   * of each to `forwardTo` (the director that handed over) when given; see sync-daemons.ts.
   */
  | { type: 'hold-unsynced'; releaseAfterMs: number | null; forwardTo?: string }
  /**
   * Keep delivering packets to the VIPs locally, without answering ARP for them, after they are
   * removed (`releaseAfterMs` > 0: for that long; 0: end it now); see sync-daemons.ts.
   */
  | { type: 'linger-vips'; releaseAfterMs: number };

export interface StepResult {
  state: InstanceState;
  actions: Action[];
}
