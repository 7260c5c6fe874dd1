import type { NodeConfig, ResolvedInstance, ResolvedVip } from '#shared/config/node-config.ts';
import type { NodeEvent } from '#shared/wire/events.ts';
import type { NodeStatus } from '#shared/wire/status.ts';
import type { SyncDaemonConfig, VrrpHost } from '../dataplane/vrrp-host.ts';
import { ChannelMux } from './channels.ts';
import type { DropCounters } from './codec.ts';
import { InstanceRuntime, type InstanceCounters } from './instance.ts';
import { runStateHooks } from './notify.ts';
import { instanceParams, type VrrpConfig } from './params.ts';
import { TrackRunner } from './track-runner.ts';
import { evaluateTracking } from './tracking.ts';
import type { Action, VrrpState } from './types.ts';

/** One running instance as the metrics see it: identity, state and keepalived's statistics. */
export interface VrrpInstanceStats {
  instance: string;
  interface: string;
  vrid: number;
  state: VrrpState;
  vips: ResolvedVip[];
  excludedVips: ResolvedVip[];
  /** keepalived garp_master_delay. */
  garpDelayMs: number;
  counters: InstanceCounters;
}

export interface StartVrrpOptions {
  nodeId: string;
  node: NodeConfig['node'];
  config: VrrpConfig;
  host: VrrpHost;
  emit(e: NodeEvent): void;
  log(line: string): void;
}

export interface VrrpRunner {
  /** Applies a new configuration: unchanged instances keep their state. */
  update(config: VrrpConfig): Promise<void>;
  status(): NonNullable<NodeStatus['vrrp']>;
  /** Graceful: priority-0 advert from masters, VIPs removed, sockets closed. */
  stop(): Promise<void>;
  /** Received packets dropped, per reason (RFC 5798 §7.1 checks). */
  drops(): DropCounters;
  /** Per running instance: state and counters (copies). */
  instances(): VrrpInstanceStats[];
  /** Each vrrp_script's debounced result (keepalived's GOOD/BAD), by name. */
  scripts(): { name: string; ok: boolean }[];
  /**
   * A BFD session went Up or Down (AdminDown is Down): track_bfd is re-evaluated, and a Down of
   * an instance's peer session (`peerBfd`) while that peer is master is a master-down at once.
   */
  bfd(change: { name: string; up: boolean }): void;
}

/** Parts of an instance that need a fresh runtime when they change (others are swapped in place). */
const identity = (i: ResolvedInstance) =>
  JSON.stringify([i.vrid, i.version, i.interface, i.sourceAddress, i.unicast, i.peers, i.vips, i.excludedVips, i.auth, i.advertIntervalMs]);

/** The sync daemons' settings when connection sync follows instance `i`. */
function syncConfigFor(i: ResolvedInstance, cfg: VrrpConfig): SyncDaemonConfig | null {
  const cs = cfg.connectionSync;
  if (!cs || cs.instance !== i.name) return null;
  return {
    interface: cs.interface,
    syncId: cs.syncId,
    ...(cs.group === undefined ? {} : { group: cs.group }),
    ...(cs.maxlen === undefined ? {} : { maxlen: cs.maxlen }),
  };
}

/**
 * Starts the VRRP engine (RFC 3768/5798 with keepalived's extensions) for one node. With no
 * instances it opens nothing. Every protocol decision is made by the pure state machine; this
 * wires it to the host's sockets, timers, tracking, sync groups and hooks.
 */
export async function startVrrp(opts: StartVrrpOptions): Promise<VrrpRunner> {
  const { host, log } = opts;
  let config = opts.config;
  const mux = new ChannelMux(host, log);
  const runtimes = new Map<string, InstanceRuntime>();
  let tracker: TrackRunner | null = null;
  const lastTrack = new Map<string, string>();
  const bfdUp = new Map<string, boolean>();

  const retrack = (why: string) => {
    if (!tracker) return;
    for (const rt of runtimes.values()) {
      const t = evaluateTracking({ ...rt.cfg, priority: rt.params.priority }, tracker.scriptResults(), tracker.links, bfdUp);
      const key = `${t.effectivePriority}|${t.fault}`;
      if (lastTrack.get(rt.cfg.name) === key) continue;
      lastTrack.set(rt.cfg.name, key);
      rt.feed({ type: 'track', effectivePriority: t.effectivePriority, fault: t.fault, reason: `${why}; ${t.detail}` });
    }
  };

  // keepalived vrrp_sync_group: a member's own move drags the others along.
  const onTransition = (rt: InstanceRuntime, a: Extract<Action, { type: 'transition' }>) => {
    const group = config.syncGroups.find((g) => g.instances.includes(rt.cfg.name));
    if (!group) return;
    const to =
      a.to === 'FAULT' ? 'FAULT' : a.from === 'FAULT' ? 'CLEAR' : a.to === 'MASTER' ? 'MASTER' : a.to === 'BACKUP' && a.from === 'MASTER' ? 'BACKUP' : null;
    if (to) for (const name of group.instances) if (name !== rt.cfg.name) runtimes.get(name)?.feed({ type: 'sync', to, member: rt.cfg.name });
    // keepalived group `notify`: GROUP name STATE.
    if (a.to !== 'INIT') runStateHooks(host, group.notify, a.to, ['GROUP', group.name, a.to]);
  };

  const create = (i: ResolvedInstance, cfg: VrrpConfig) =>
    new InstanceRuntime(instanceParams(i, cfg), i, {
      host,
      nodeId: opts.nodeId,
      log,
      emit: opts.emit,
      channel: () => mux.channel(i.interface, i.family === 6),
      onTransition,
      connectionSync: syncConfigFor(i, cfg),
    });

  const start = (rt: InstanceRuntime) => {
    runtimes.set(rt.cfg.name, rt);
    if (tracker) {
      const t = evaluateTracking(rt.cfg, tracker.scriptResults(), tracker.links, bfdUp);
      lastTrack.set(rt.cfg.name, `${t.effectivePriority}|${t.fault}`);
      rt.state = { ...rt.state, effectivePriority: t.effectivePriority, ownFault: t.fault };
    }
    rt.feed({ type: 'start' });
  };

  const stopOne = async (rt: InstanceRuntime) => {
    rt.feed({ type: 'shutdown' });
    rt.dispose();
    runtimes.delete(rt.cfg.name);
    lastTrack.delete(rt.cfg.name);
    await rt.settled();
  };

  const apply = async (next: VrrpConfig) => {
    config = next;
    const wanted = new Map(next.instances.map((i) => [i.name, i]));
    for (const rt of [...runtimes.values()]) {
      const w = wanted.get(rt.cfg.name);
      if (!w || identity(w) !== identity(rt.cfg)) await stopOne(rt);
    }
    if (next.instances.length && !tracker) {
      tracker = new TrackRunner(host, retrack, log);
      await tracker.startLinks();
    }
    // Connection sync that changed under a running instance restarts its daemons (only then); an
    // instance losing it stops them before the one gaining it starts them.
    const kept = next.instances.filter((i) => runtimes.has(i.name));
    for (const i of kept) if (!syncConfigFor(i, next)) runtimes.get(i.name)!.setConnectionSync(null);
    for (const i of kept) if (syncConfigFor(i, next)) runtimes.get(i.name)!.setConnectionSync(syncConfigFor(i, next));
    const fresh: InstanceRuntime[] = [];
    for (const i of next.instances) {
      const rt = runtimes.get(i.name);
      if (rt) {
        // Same identity: new priorities, preempt, tracking or hooks apply without a transition.
        rt.cfg = i;
        rt.params = instanceParams(i, next);
        lastTrack.delete(i.name);
      } else fresh.push(create(i, next));
    }
    await mux.sync([...runtimes.values(), ...fresh]);
    // RFC 5798 §6.4.3: the tie-break compares the address adverts leave from (IPv6: link-local).
    for (const rt of [...runtimes.values(), ...fresh]) {
      const sent = mux.channel(rt.cfg.interface, rt.cfg.family === 6)?.sourceAddress;
      if (sent) rt.params = { ...rt.params, primaryAddress: sent };
    }
    for (const rt of fresh) start(rt);
    tracker?.setScripts(next.scripts);
    retrack('configuration');
    for (const rt of runtimes.values()) peerReady(rt);
  };

  // A maintenance override on a MASTER: its peer's BFD session Up confirms the peer can take over.
  const peerReady = (rt: InstanceRuntime) => {
    const s = rt.cfg.peerBfd;
    if (rt.params.maintenance && s && bfdUp.get(s) === true) rt.feed({ type: 'peer-ready', reason: `BFD ${s} up` });
  };

  await apply(config);
  let stopped = false;
  return {
    update: (c) => (stopped ? Promise.resolve() : apply(c)),
    status() {
      const wallNow = Date.now();
      const now = host.now();
      return [...runtimes.values()].map((rt) => ({
        instance: rt.cfg.name,
        vrid: rt.cfg.vrid,
        state: rt.state.state,
        priority: rt.params.priority,
        effectivePriority: rt.state.effectivePriority,
        since: new Date(wallNow - (now - rt.state.since)).toISOString(),
      }));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      tracker?.stop();
      await Promise.all([...runtimes.values()].map(stopOne));
      await mux.close();
      await host.close();
    },
    drops: () => ({ ...mux.drops }),
    instances: () =>
      [...runtimes.values()].map((rt) => ({
        instance: rt.cfg.name,
        interface: rt.cfg.interface,
        vrid: rt.cfg.vrid,
        state: rt.state.state,
        vips: rt.cfg.vips,
        excludedVips: rt.cfg.excludedVips,
        garpDelayMs: rt.cfg.garp.masterDelayMs,
        counters: { ...rt.counters },
      })),
    scripts: () => [...(tracker?.scriptResults() ?? [])].map(([name, ok]) => ({ name, ok })),
    bfd({ name, up }) {
      const was = bfdUp.get(name);
      if (stopped || was === up) return;
      bfdUp.set(name, up);
      if (!up && was)
        for (const rt of runtimes.values())
          if (rt.cfg.peerBfd === name && rt.cfg.peers.length === 1)
            rt.feed({ type: 'peer-down', address: rt.cfg.peers[0].address, reason: `BFD ${name} down` });
      retrack(`BFD ${name} ${up ? 'up' : 'down'}`);
      if (up) for (const rt of runtimes.values()) if (rt.cfg.peerBfd === name) peerReady(rt);
    },
  };
}
