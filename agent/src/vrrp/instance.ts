import type { ResolvedInstance } from '#shared/config/node-config.ts';
import type { NodeEvent } from '#shared/wire/events.ts';
import type { SyncDaemonConfig, VrrpChannel, VrrpHost } from '../dataplane/vrrp-host.ts';
import { mark } from '../debug/failover-timing.ts';
import { encodeAdvert } from './codec.ts';
import { runStateHooks } from './notify.ts';
import { advertDestinations } from './params.ts';
import { initialState, nextDeadline, step } from './state-machine.ts';
import { syncDaemonsFor } from './sync-daemons.ts';
import type { Action, Event, InstanceParams, InstanceState } from './types.ts';

/**
 * keepalived's per-instance VRRP statistics (its `vrrp_stats`, as `keepalived.stats` and the JSON
 * dump name them), kept by the runtime so the metrics read counts, not logs.
 */
const VRRP_STATS = [
  'advert_rcvd',
  'advert_sent',
  'become_master',
  'release_master',
  'packet_len_err',
  'advert_interval_err',
  'ip_ttl_err',
  'invalid_type_rcvd',
  'addr_list_err',
  'invalid_authtype',
  'authtype_mismatch',
  'auth_failure',
  'pri_zero_rcvd',
  'pri_zero_sent',
] as const;
export type VrrpStat = (typeof VRRP_STATS)[number];
export type InstanceCounters = Record<VrrpStat, number>;

/** The actions that change what the network sees; `feed` runs them before the rest. */
const URGENT = new Set<Action['type']>(['send-advert', 'linger-vips', 'remove-vips', 'add-vips', 'garp']);

export const newInstanceCounters = (): InstanceCounters => Object.fromEntries(VRRP_STATS.map((k) => [k, 0])) as InstanceCounters;

export interface InstanceDeps {
  host: VrrpHost;
  nodeId: string;
  log(line: string): void;
  emit(e: NodeEvent): void;
  /** The channel of the instance's interface (looked up at send time: channels can be reopened). */
  channel(): VrrpChannel | undefined;
  /** Called after every transition the instance made on its own (sync groups, connection sync). */
  onTransition(rt: InstanceRuntime, a: Extract<Action, { type: 'transition' }>): void;
  connectionSync: SyncDaemonConfig | null;
}

/**
 * One running VRRP instance: feeds events to the pure `step`, performs its actions, and keeps a
 * single timer armed at the next deadline. Host changes (VIPs, GARP) run in order on a promise
 * chain, off the packet/timer path, so slow `ip`/`arping` never delays an advert.
 */
export class InstanceRuntime {
  state: InstanceState;
  /** Since this runtime started (a changed identity starts a new one: counters restart, as on a keepalived reload). */
  readonly counters: InstanceCounters = newInstanceCounters();
  private timer: NodeJS.Timeout | null = null;
  private gen = 0;
  private chain: Promise<void> = Promise.resolve();
  /** Host changes started or waiting on `chain`. */
  private queued = 0;

  constructor(
    public params: InstanceParams,
    public cfg: ResolvedInstance,
    private deps: InstanceDeps,
  ) {
    this.state = initialState(params, deps.host.now());
  }

  /**
   * New connection-sync settings from a new configuration (the instance itself is unchanged). Only
   * a change restarts the daemons that run, with the new settings: a restart drops the master's
   * unsent message, which is acceptable at a revision but never at a VRRP transition (transitions
   * touch no daemon, see sync-daemons.ts); an override's reload leaves them be.
   */
  setConnectionSync(next: SyncDaemonConfig | null): void {
    const prev = this.deps.connectionSync;
    if (JSON.stringify(prev) === JSON.stringify(next)) return;
    this.deps = { ...this.deps, connectionSync: next };
    const daemons = syncDaemonsFor(this.state.state);
    if (!daemons.length) return;
    const { host, log } = this.deps;
    // Losing the instance (next null) stops them; other settings start both afresh.
    const stop = { interface: prev?.interface ?? '', syncId: prev?.syncId ?? 0 };
    log(`vrrp ${this.cfg.name}: connection sync settings changed, restarting its daemons`);
    host.syncDaemons(next ? daemons : [], next ?? stop).catch((e: Error) => log(`vrrp ${this.cfg.name}: connection sync restart failed: ${e.message}`));
  }

  /** Steps the machine with one event at the current monotonic time. */
  feed(e: Event): void {
    const now = this.deps.host.now();
    if (mark && e.type === 'advert' && e.priority === 0 && this.state.state === 'BACKUP') mark('prio0-rcvd', `${this.cfg.name} from ${e.source}`);
    const r = step(this.params, this.state, e, now);
    this.state = r.state;
    if (mark) for (const a of r.actions) if (a.type === 'transition') mark('state', `${this.cfg.name} ${a.from}→${a.to}`);
    // Packets and addresses first, bookkeeping after (the log line, the event, which builds and
    // writes a status document, notify hooks, sync groups): a takeover must not wait for them, and
    // keepalived too runs its notify scripts once the VIPs are set. Order within each kind is kept.
    for (const a of r.actions) if (URGENT.has(a.type)) this.exec(a);
    for (const a of r.actions) if (!URGENT.has(a.type)) this.exec(a);
    this.arm(now);
  }

  private arm(now: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const gen = ++this.gen;
    const d = nextDeadline(this.state);
    if (d === null) return;
    this.timer = setTimeout(
      () => {
        // libuv runs timers before polling sockets: after a scheduling stall the master's advert may
        // already sit in our receive queue. setImmediate runs after the poll phase, so the queued
        // advert is read first and a late timer cannot declare a live master down.
        setImmediate(() => {
          if (gen !== this.gen) return; // re-armed meanwhile (an advert arrived): that timer rules
          this.timer = null;
          // A stall of a whole advert interval is worth a log line: it is how spurious failovers start.
          const late = this.deps.host.now() - d;
          if (late > this.params.advertIntervalMs) this.deps.log(`vrrp ${this.cfg.name}: timer ran ${Math.round(late)} ms late (process stalled)`);
          this.feed({ type: 'timer' });
        });
      },
      Math.max(0, Math.ceil(d - now)),
    );
  }

  private later(what: string, fn: () => Promise<void>): void {
    const run = () =>
      fn()
        .catch((e: Error) => this.deps.log(`vrrp ${this.cfg.name}: ${what} failed: ${e.message}`))
        .finally(() => this.queued--);
    // With nothing queued the change starts now, in this tick (its `ip` command is written before
    // the transition's bookkeeping runs); otherwise it waits its turn, so changes never reorder.
    this.chain = this.queued++ === 0 ? run() : this.chain.then(run);
  }

  private exec(a: Action): void {
    const { host, log } = this.deps;
    const c = this.cfg;
    // Every address the instance owns: the VIPs it advertises and the ones it holds unadvertised.
    const vips = [...c.vips, ...c.excludedVips];
    switch (a.type) {
      case 'send-advert':
        return this.sendAdvert(a.priority);
      case 'add-vips':
        return this.later('adding VIPs', async () => {
          await host.addVips(vips);
          mark?.('vip-added', c.name);
        });
      case 'remove-vips':
        return this.later('removing VIPs', async () => {
          await host.removeVips(vips);
          mark?.('vip-removed', c.name);
        });
      case 'garp': {
        const byIface = new Map<string, string[]>();
        for (const v of vips) byIface.set(v.interface, [...(byIface.get(v.interface) ?? []), v.address]);
        // Not chained behind `ip addr add`: the GARP frames do not need the address configured, and
        // sending both at once saves a process start on the failover path.
        for (const [iface, addrs] of byIface) {
          if (this.state.state !== 'MASTER') continue;
          host.garp(iface, addrs, a.count).then(
            () => mark?.('garp-sent', `${c.name} ${iface}`),
            (e: Error) => log(`vrrp ${c.name}: gratuitous ARP failed: ${e.message}`),
          );
        }
        return;
      }
      case 'notify':
        // keepalived instance `notify`: INSTANCE name STATE priority.
        return runStateHooks(host, c.notify, a.state, ['INSTANCE', c.name, a.state, String(a.priority)]);
      case 'transition':
        log(`vrrp ${c.name} ${a.from}→${a.to} (${a.reason})`);
        if (a.to === 'MASTER') this.counters.become_master++;
        if (a.from === 'MASTER') this.counters.release_master++;
        this.deps.emit({
          type: 'vrrp.transition',
          nodeId: this.deps.nodeId,
          at: new Date().toISOString(),
          data: { instance: c.name, from: a.from, to: a.to, reason: a.reason },
        });
        if (!a.sync) this.deps.onTransition(this, a);
        return;
      case 'sync-daemon': {
        const cs = this.deps.connectionSync;
        if (!cs) return;
        // keepalived lvs_sync_daemon: a host without ip_vs reports the failure and keeps doing VRRP.
        const what = a.daemons.length ? a.daemons.join('+') : 'stop';
        host.syncDaemons(a.daemons, cs).catch((e: Error) => log(`vrrp ${c.name}: connection sync ${what} failed: ${e.message}`));
        return;
      }
      case 'linger-vips': {
        const addresses = vips.map((v) => v.address);
        // Set up on the VIP chain, before the VIPs go: the linger must be there when they are not.
        if (a.releaseAfterMs > 0) return this.later('lingering on the VIPs', () => host.lingerVips(c.name, addresses, a.releaseAfterMs));
        // Ended off it: a return to MASTER must not wait for nft (a linger is harmless beside the VIPs).
        host.lingerVips(c.name, addresses, 0).catch((e: Error) => log(`vrrp ${c.name}: ending the linger on the VIPs failed: ${e.message}`));
        return;
      }
      case 'hold-unsynced': {
        // Off the VIP path: while BACKUP the hold is inert and already there when MASTER comes.
        const addresses = vips.map((v) => v.address);
        const forward = a.forwardTo ? { address: a.forwardTo, device: c.interface } : null;
        host
          .holdUnsynced(c.name, addresses, a.releaseAfterMs, forward)
          .catch((e: Error) => log(`vrrp ${c.name}: holding unsynced connections failed (they get resets at a move): ${e.message}`));
        return;
      }
    }
  }

  private sendAdvert(priority: number): void {
    const ch = this.deps.channel();
    if (!ch) return;
    const c = this.cfg;
    // keepalived counts one advert per interval, however many unicast peers it goes to.
    this.counters.advert_sent++;
    if (priority === 0) this.counters.pri_zero_sent++;
    for (const destination of advertDestinations(c)) {
      const pkt = encodeAdvert({
        version: c.version,
        vrid: c.vrid,
        priority,
        intervalMs: c.advertIntervalMs,
        addresses: c.vips.map((v) => v.address),
        password: c.auth?.password ?? null,
        source: ch.sourceAddress ?? c.sourceAddress,
        destination,
      });
      ch.send(pkt, destination);
    }
    if (priority === 0) mark?.('prio0-sent', c.name);
  }

  /** Resolves when every queued host change (VIPs, GARP) has finished. */
  settled(): Promise<void> {
    return this.chain;
  }

  dispose(): void {
    this.gen++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
