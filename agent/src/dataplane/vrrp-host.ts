import type { ResolvedVip } from '#shared/config/node-config.ts';
import type { NodeEvent } from '#shared/wire/events.ts';
import type { AgentHealth } from '#shared/wire/status.ts';
import type { HelperHealth, HelperRestart } from './supervisor.ts';
import type { HoldForward } from './unsynced-hold.ts';

/** Options of one VRRP channel: a raw protocol-112 socket bound to one interface. */
export interface VrrpChannelOptions {
  interface: string;
  /** Our primary address on the interface: multicast source and IP_MULTICAST_IF. */
  sourceAddress: string;
  /** Join 224.0.0.18 / ff02::12 (false when every instance on the interface is unicast). */
  multicast: boolean;
  /** VRRPv3 over IPv6 (RFC 5798 §5.1.2); absent or false: IPv4. */
  ipv6?: boolean;
}

export interface VrrpChannel {
  /**
   * The address adverts really leave from, when it is not `sourceAddress`: over IPv6 the
   * interface's link-local address (RFC 5798 §5.1.2.1). The advert's checksum covers it and the
   * tie-break compares it (§6.4.3), so the instance uses it for both.
   */
  readonly sourceAddress?: string;
  /** Sends one VRRP message (IPv4: no IP header, the kernel writes TTL 255, TOS 0xc0; IPv6: the channel writes it). */
  send(vrrp: Buffer, destination: string): void;
  /** Closes after queued sends went out (a shutdown's priority-0 advert must leave first). */
  close(): Promise<void>;
}

/** An IPVS connection-sync daemon (`ipvsadm --start-daemon master|backup`; keepalived lvs_sync_daemon runs one at a time). */
export type SyncDaemon = 'master' | 'backup';

/** What both sync daemons of a director run with (the node config's connectionSync). */
export interface SyncDaemonConfig {
  interface: string;
  syncId: number;
  /** Multicast group; absent: the kernel's 224.0.0.81. */
  group?: string;
  /** Sync message size in bytes; absent: the kernel's default (see shared/site/vrrp.ts ConnectionSync). */
  maxlen?: number;
}

/**
 * `ipvsadm --start-daemon` arguments; group and maxlen only when set, so a default site runs the
 * same command as before. The same maxlen goes to both roles: a backup reads messages up to its own
 * maxlen (the kernel raises it to at least 1024), so a peer's master sending larger ones needs it.
 */
export function syncDaemonArgs(role: SyncDaemon, c: SyncDaemonConfig): string[] {
  return [
    '--start-daemon',
    role,
    '--mcast-interface',
    c.interface,
    '--syncid',
    String(c.syncId),
    ...(c.group === undefined ? [] : ['--mcast-group', c.group]),
    ...(c.maxlen === undefined ? [] : ['--sync-maxlen', String(c.maxlen)]),
  ];
}

/**
 * Everything the VRRP driver does to the host. The Linux implementation shells out to `ip`,
 * `arping`, `ipvsadm` and uses raw sockets; the dry-run one only logs; tests use an in-memory one.
 * Methods that change the host are idempotent (adding a present VIP or removing an absent one is fine).
 */
export interface VrrpHost {
  /** Monotonic milliseconds (never wall-clock). */
  now(): number;
  /** Opens the raw channel; `onPacket` gets whole IPv4 packets (header included). */
  openChannel(opts: VrrpChannelOptions, onPacket: (packet: Buffer) => void, onError: (err: Error) => void): Promise<VrrpChannel>;
  addVips(vips: ResolvedVip[]): Promise<void>;
  removeVips(vips: ResolvedVip[]): Promise<void>;
  /** Gratuitous ARP burst for the addresses (keepalived garp_master_repeat). */
  garp(iface: string, addresses: string[], count: number): Promise<void>;
  /** Current link states (true = up with carrier). */
  links(): Promise<Map<string, boolean>>;
  /** Calls back on every link change; returns the unsubscribe function. */
  watchLinks(onChange: (links: Map<string, boolean>) => void): () => void;
  /** Runs a vrrp_script (as `user` when given, keepalived's `user`, else the script user); resolves true on exit 0 within the timeout, false when refused. */
  runScript(command: string, timeoutMs: number, user?: string | null): Promise<boolean>;
  /** Fires a notify hook with keepalived's arguments; never waits for it. */
  notify(command: string, args: string[]): void;
  /**
   * Runs exactly `daemons` of the IPVS connection sync with `config` (none = stop both), each
   * started afresh; rejects (the driver reports it) where ip_vs is absent.
   */
  syncDaemons(daemons: readonly SyncDaemon[], config: SyncDaemonConfig): Promise<void>;
  /**
   * Drops, instead of letting the local TCP stack reset, mid-stream TCP to `addresses` that IPVS
   * did not take (a connection not synced yet), as the hold named `name`; `releaseAfterMs`: null
   * holds until the next call, a number ends the hold that long from now (0: now). `forward`: also
   * send a copy of each held packet to the director that handed the VIPs over (see unsynced-hold.ts).
   */
  holdUnsynced(name: string, addresses: string[], releaseAfterMs: number | null, forward?: HoldForward | null): Promise<void>;
  /**
   * Keeps delivering packets to `addresses` locally, without answering ARP for them, after they
   * were removed, as the linger named `name`, for `releaseAfterMs` (0: ends it now); see vip-linger.ts.
   */
  lingerVips(name: string, addresses: string[], releaseAfterMs: number): Promise<void>;
  /** Health of the host's helper processes (hosts that run none, like the in-memory one, omit it). */
  health?(): VrrpHostHealth;
  close(): Promise<void>;
}

/**
 * `degraded` when gratuitous ARP cannot be sent at all (no helper, no arping: clients would keep
 * a dead director's MAC after a failover) or a helper keeps dying. `garpAvailable` is null until
 * the start-up probe has answered.
 */
export interface VrrpHostHealth {
  status: 'ok' | 'degraded';
  garpAvailable: boolean | null;
  helpers: HelperHealth[];
}

/** What the host reports on its own, for the engine to turn into node events. */
export type VrrpHostEvent =
  | { type: 'helper_restarted'; restart: HelperRestart }
  | { type: 'garp_unavailable'; detail: string }
  /** A spec's script refused by the agent's script policy (named in `detail`). */
  | { type: 'script_refused'; detail: string };

/** The one error type of the VRRP host boundary, with stable codes. */
export class VrrpHostError extends Error {
  constructor(
    readonly code: 'socket' | 'ip_addr' | 'garp' | 'links' | 'script' | 'ipvs_sync',
    message: string,
  ) {
    super(message);
    this.name = 'VrrpHostError';
  }
}

/** The status document's `health` field from the host's snapshot (bounded as the wire schema wants). */
export function wireHealth(h: VrrpHostHealth): AgentHealth {
  return {
    status: h.status,
    garpAvailable: h.garpAvailable,
    helpers: h.helpers.slice(0, 32).map((x) => ({ ...x, lastError: x.lastError?.slice(0, 500) ?? null, since: new Date(x.since).toISOString() })),
  };
}

/** The node event for a host event: `agent.helper_restarted` or `agent.degraded` (what: garp or script). */
export function wireEvent(e: VrrpHostEvent, nodeId: string, at = new Date()): NodeEvent {
  const base = { nodeId, at: at.toISOString() };
  if (e.type === 'helper_restarted')
    return {
      ...base,
      type: 'agent.helper_restarted',
      data: { helper: e.restart.name, restarts: e.restart.restarts, error: e.restart.error.slice(0, 500), delayMs: e.restart.delayMs },
    };
  return { ...base, type: 'agent.degraded', data: { what: e.type === 'garp_unavailable' ? 'garp' : 'script', detail: e.detail.slice(0, 500) } };
}
