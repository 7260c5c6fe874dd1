import { compareIp } from '#shared/util/ip.ts';
import { syncTransitionActions } from './sync-daemons.ts';
import { masterDownIntervalMs, skewMs } from './timers.ts';
import type { Action, Event, InstanceParams, InstanceState, StepResult, VrrpState } from './types.ts';

/** A fresh instance in Initialize (RFC 5798 §6.4.1). */
export function initialState(p: InstanceParams, now: number): InstanceState {
  return {
    state: 'INIT',
    since: now,
    effectivePriority: p.priority,
    ownFault: null,
    groupFault: null,
    masterAdverIntervalMs: p.advertIntervalMs,
    masterDownAt: null,
    advertAt: null,
    preemptAt: null,
    garpAt: null,
    garpNext: null,
    lowerPrioGarpAt: null,
    masterAddress: null,
    handoverFrom: null,
    lastAdvertAt: null,
    masterPriority: null,
    preempting: null,
  };
}

/** The earliest armed deadline, or null: the driver sets one timer for it. */
export function nextDeadline(s: InstanceState): number | null {
  const ds = [s.masterDownAt, s.advertAt, s.garpAt, s.lowerPrioGarpAt].filter((d): d is number => d !== null);
  return ds.length ? Math.min(...ds) : null;
}

/** Priority 255 is the address owner's and is never changed by tracking (RFC 5798 §6.1). */
function isOwner(p: InstanceParams, s: InstanceState): boolean {
  return p.priority === 255 && s.effectivePriority === 255;
}

type Out = { s: InstanceState; a: Action[] };

/** keepalived vrrp_garp_lower_prio_repeat; unset = garp_master_repeat (keepalived's default). */
const lowerPrioRepeat = (p: InstanceParams) => p.garp.lowerPrioRepeat ?? p.garp.masterRepeat;

function leave(o: Out, p: InstanceParams, to: VrrpState, now: number, reason: string, sync: boolean, handoverFrom: string | null = null): void {
  const from = o.s.state;
  const syncActions = p.connectionSync ? syncTransitionActions(from, to, handoverFrom) : [];
  // The linger is set up before the VIPs go (make before break: no moment in which a packet to
  // them is neither delivered here nor answered by ARP elsewhere).
  const linger = syncActions.filter((a) => a.type === 'linger-vips');
  if (from === 'MASTER') o.a.push(...linger, { type: 'remove-vips' });
  o.a.push({ type: 'transition', from, to, reason, sync });
  o.s = {
    ...o.s,
    state: to,
    since: now,
    masterDownAt: null,
    advertAt: null,
    preemptAt: null,
    garpAt: null,
    garpNext: null,
    lowerPrioGarpAt: null,
    handoverFrom: null,
  };
  if (to !== 'INIT') o.a.push({ type: 'notify', state: to as 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP', priority: o.s.effectivePriority });
  o.a.push(...syncActions.filter((a) => from !== 'MASTER' || a.type !== 'linger-vips'));
}

/** Every way into MASTER goes through here, so every return to MASTER announces the VIPs. */
function toMaster(o: Out, p: InstanceParams, now: number, reason: string, sync = false, handoverFrom: string | null = null): void {
  leave(o, p, 'MASTER', now, reason, sync, handoverFrom);
  // RFC 5798 §6.4.1/§6.4.2: send an advert, then announce the VIPs (gratuitous ARP).
  o.a.push({ type: 'send-advert', priority: o.s.effectivePriority }, { type: 'add-vips' }, { type: 'garp', count: p.garp.masterRepeat });
  const g = p.garp;
  // keepalived garp_master_delay: a second burst after the delay; garp_master_refresh: then periodically.
  const [garpAt, garpNext] =
    g.masterDelayMs > 0 ? [now + g.masterDelayMs, 'delay' as const] : g.masterRefreshMs > 0 ? [now + g.masterRefreshMs, 'refresh' as const] : [null, null];
  o.s = {
    ...o.s,
    advertAt: now + p.advertIntervalMs,
    masterAdverIntervalMs: p.advertIntervalMs,
    masterAddress: p.primaryAddress,
    masterPriority: null,
    preempting: null,
    garpAt,
    garpNext,
  };
}

function toBackup(o: Out, p: InstanceParams, now: number, reason: string, sync = false, downMs?: number): void {
  leave(o, p, 'BACKUP', now, reason, sync);
  const mdi = downMs ?? masterDownIntervalMs(p.version, o.s.effectivePriority, o.s.masterAdverIntervalMs);
  o.s = { ...o.s, masterDownAt: now + mdi };
}

function toFault(o: Out, p: InstanceParams, now: number, reason: string, sync = false): void {
  // keepalived: a master going to FAULT releases the VRID with a priority-0 advert.
  if (o.s.state === 'MASTER') o.a.push({ type: 'send-advert', priority: 0 });
  leave(o, p, 'FAULT', now, reason, sync);
}

const faultReason = (s: InstanceState) => s.ownFault ?? s.groupFault;

function onStart(o: Out, p: InstanceParams, now: number): void {
  if (faultReason(o.s)) return toFault(o, p, now, faultReason(o.s)!);
  if (p.maintenance) return toBackup(o, p, now, 'start (maintenance)');
  if (isOwner(p, o.s)) return toMaster(o, p, now, 'address owner (priority 255)');
  // keepalived `state MASTER`: time out of BACKUP after one advert interval plus skew.
  const wait = p.initialState === 'MASTER' ? p.advertIntervalMs + skewMs(p.version, o.s.effectivePriority, p.advertIntervalMs) : undefined;
  toBackup(o, p, now, 'start', false, wait);
}

function onAdvert(o: Out, p: InstanceParams, e: Extract<Event, { type: 'advert' }>, now: number): void {
  const s = o.s;
  if (s.state === 'BACKUP') {
    if (e.priority === 0) {
      // RFC 5798 §6.4.2: the master is leaving; take over after Skew_Time only.
      o.s = {
        ...s,
        masterDownAt: now + skewMs(p.version, s.effectivePriority, s.masterAdverIntervalMs),
        masterAddress: null,
        masterPriority: null,
        preempting: null,
        handoverFrom: e.source,
      };
      return;
    }
    const lower = e.priority < s.effectivePriority;
    let preemptAt = s.preemptAt;
    if (lower && p.preempt && p.preemptDelayMs > 0 && preemptAt === null) preemptAt = now + p.preemptDelayMs;
    const tolerated = !p.preempt || !lower || (preemptAt !== null && now < preemptAt);
    if (!tolerated) {
      // Preempting: discard the lower-priority advert and let Master_Down_Timer run out. The target
      // of an operator's failover does not wait that long: the lower advert is the proof the master
      // was told to step down, so it takes over after Skew_Time, as after a priority-0 advert.
      const soon = now + skewMs(p.version, s.effectivePriority, s.masterAdverIntervalMs);
      const masterDownAt = p.failoverTarget && (s.masterDownAt === null || soon < s.masterDownAt) ? soon : s.masterDownAt;
      o.s = { ...s, preemptAt, preempting: e.priority, masterDownAt, handoverFrom: e.source, lastAdvertAt: now, masterPriority: e.priority };
      return;
    }
    const interval = p.version === 3 ? e.intervalMs : s.masterAdverIntervalMs;
    o.s = {
      ...s,
      preemptAt: lower ? preemptAt : null,
      preempting: null,
      masterAdverIntervalMs: interval,
      masterDownAt: now + masterDownIntervalMs(p.version, s.effectivePriority, interval),
      masterAddress: e.source,
      handoverFrom: null,
      lastAdvertAt: now,
      masterPriority: e.priority,
    };
    return;
  }
  if (s.state !== 'MASTER') return;
  if (e.priority === 0) {
    // RFC 5798 §6.4.3: another router released the VRID: assert ours at once.
    o.a.push({ type: 'send-advert', priority: s.effectivePriority });
    o.s = { ...s, advertAt: now + p.advertIntervalMs };
    return;
  }
  const higher = e.priority > s.effectivePriority || (e.priority === s.effectivePriority && compareIp(e.source, p.primaryAddress) > 0);
  if (higher) {
    o.s = { ...s, masterAdverIntervalMs: p.version === 3 ? e.intervalMs : s.masterAdverIntervalMs, lastAdvertAt: now, masterPriority: e.priority };
    toBackup(o, p, now, `higher priority ${e.priority} from ${e.source}`);
    o.s = { ...o.s, masterAddress: e.source };
    return;
  }
  // RFC 5798 §6.4.3: a lower-priority advert is discarded and we stay MASTER. keepalived ("received
  // lower priority advert, forcing new election") answers at once, so the other steps down sooner,
  // and sends a GARP burst (vrrp_garp_lower_prio_repeat, default garp_master_repeat): the other
  // router announced the VIPs with its MAC while it believed itself master, and without a fresh
  // announcement clients keep sending to it until their ARP entries expire.
  // The burst is repeated one advert interval after the last lower-priority advert: our answer and
  // the other router's own takeover burst race to the clients (measured: its burst often lands
  // last, leaving clients on its MAC for seconds); by then it has heard our advert and stepped down,
  // so the repeat is the last word.
  o.a.push({ type: 'send-advert', priority: s.effectivePriority }, { type: 'garp', count: lowerPrioRepeat(p) });
  o.s = { ...s, advertAt: now + p.advertIntervalMs, lowerPrioGarpAt: now + p.advertIntervalMs };
}

function onTimer(o: Out, p: InstanceParams, now: number): void {
  const s = o.s;
  if (s.state === 'BACKUP' && s.masterDownAt !== null && now >= s.masterDownAt) {
    // lvsfleet maintenance: stay BACKUP whatever happens to the master; the override's end decides.
    if (p.maintenance) {
      o.s = { ...s, masterDownAt: now + masterDownIntervalMs(p.version, s.effectivePriority, s.masterAdverIntervalMs), preempting: null };
      return;
    }
    const ago = s.lastAdvertAt === null ? '' : `, ${Math.round(now - s.lastAdvertAt)} ms`;
    const reason =
      s.preempting !== null
        ? `preempting lower priority ${s.preempting}`
        : s.lastAdvertAt === null
          ? 'no master heard'
          : s.masterAddress === null
            ? `master released (priority 0)${ago}`
            : `master down${ago}`;
    // Set only by a released or preempted master: one that went silent (a crash) is no handover.
    return toMaster(o, p, now, reason, false, s.handoverFrom);
  }
  if (s.state !== 'MASTER') return;
  let next = { ...s };
  if (s.advertAt !== null && now >= s.advertAt) {
    o.a.push({ type: 'send-advert', priority: s.effectivePriority });
    // Keep the cadence, but never burst to catch up after a stall.
    const due = s.advertAt + p.advertIntervalMs;
    next.advertAt = due > now ? due : now + p.advertIntervalMs;
  }
  if (s.garpAt !== null && now >= s.garpAt) {
    const g = p.garp;
    o.a.push({ type: 'garp', count: s.garpNext === 'delay' ? g.masterRepeat : g.masterRefreshRepeat });
    next = { ...next, garpAt: g.masterRefreshMs > 0 ? now + g.masterRefreshMs : null, garpNext: g.masterRefreshMs > 0 ? 'refresh' : null };
  }
  if (s.lowerPrioGarpAt !== null && now >= s.lowerPrioGarpAt) {
    o.a.push({ type: 'garp', count: lowerPrioRepeat(p) });
    next = { ...next, lowerPrioGarpAt: null };
  }
  o.s = next;
}

function onTrack(o: Out, p: InstanceParams, e: Extract<Event, { type: 'track' }>, now: number): void {
  const before = o.s;
  // RFC 5798 §6.1: the owner's 255 is not adjustable; keepalived clamps others to 1–254.
  const eff = p.priority === 255 ? 255 : Math.max(1, Math.min(254, e.effectivePriority));
  o.s = { ...before, effectivePriority: eff, ownFault: e.fault };
  if (before.state === 'INIT' || before.state === 'STOP') return;
  const fault = faultReason(o.s);
  if (fault && before.state !== 'FAULT') return toFault(o, p, now, fault);
  if (!fault && before.state === 'FAULT') {
    if (isOwner(p, o.s) && !p.maintenance) return toMaster(o, p, now, `fault cleared (${e.reason}), address owner`);
    return toBackup(o, p, now, `fault cleared (${e.reason})`);
  }
  if (before.state === 'MASTER' && eff !== before.effectivePriority) {
    // Advertise the new priority at once so a preempting backup need not wait a full interval.
    o.a.push({ type: 'send-advert', priority: eff });
    o.s = { ...o.s, advertAt: now + p.advertIntervalMs };
  }
  if (before.state === 'BACKUP') preemptHeardMaster(o, p, now);
}

/**
 * lvsfleet failover: a target reconfigured (or re-tracked) above the master it heard within the
 * last advert interval takes over after Skew_Time on that advert, as it would on the next one
 * (onAdvert). Waiting for the next advert only adds up to an interval: the master's priority is
 * already known to be lower.
 */
function preemptHeardMaster(o: Out, p: InstanceParams, now: number): void {
  const s = o.s;
  if (!p.failoverTarget || !p.preempt || p.maintenance || s.masterPriority === null || s.lastAdvertAt === null) return;
  if (s.masterPriority >= s.effectivePriority || now - s.lastAdvertAt > s.masterAdverIntervalMs) return;
  const soon = now + skewMs(p.version, s.effectivePriority, s.masterAdverIntervalMs);
  if (s.masterDownAt !== null && s.masterDownAt <= soon) return;
  o.s = { ...s, masterDownAt: soon, preempting: s.masterPriority, handoverFrom: s.masterAddress };
}

function onSync(o: Out, p: InstanceParams, e: Extract<Event, { type: 'sync' }>, now: number): void {
  const s = o.s;
  if (s.state === 'INIT' || s.state === 'STOP') return;
  const why = `sync group: ${e.member} ${e.to === 'CLEAR' ? 'left FAULT' : `went ${e.to}`}`;
  if (e.to === 'FAULT') {
    o.s = { ...s, groupFault: why };
    if (s.state !== 'FAULT') toFault(o, p, now, why, true);
  } else if (e.to === 'CLEAR') {
    o.s = { ...s, groupFault: null };
    if (s.state === 'FAULT' && !s.ownFault) toBackup(o, p, now, why, true);
  } else if (e.to === 'MASTER' && s.state === 'BACKUP' && !p.maintenance) toMaster(o, p, now, why, true);
  else if (e.to === 'BACKUP' && s.state === 'MASTER') toBackup(o, p, now, why, true);
}

/** lvsfleet: the master we hear is gone (BFD): take over now rather than after Master_Down_Interval. */
function onPeerDown(o: Out, p: InstanceParams, e: Extract<Event, { type: 'peer-down' }>, now: number): void {
  const s = o.s;
  if (s.state !== 'BACKUP' || s.masterAddress !== e.address) return;
  const ago = s.lastAdvertAt === null ? '' : `, last advert ${Math.round(now - s.lastAdvertAt)} ms ago`;
  toMaster(o, p, now, `master down (${e.reason}${ago})`);
}

/**
 * lvsfleet maintenance: a MASTER whose peer is confirmed ready leaves at once with a priority-0
 * advert (RFC 5798 §6.4.3), so the peer takes over after Skew_Time instead of a preemption's
 * Master_Down_Interval. Without that confirmation it keeps the VIPs, advertising priority 1,
 * until a peer with preempt takes over and its higher-priority advert sends this one to BACKUP.
 */
function onPeerReady(o: Out, p: InstanceParams, e: Extract<Event, { type: 'peer-ready' }>, now: number): void {
  if (!p.maintenance || o.s.state !== 'MASTER') return;
  o.a.push({ type: 'send-advert', priority: 0 });
  toBackup(o, p, now, `maintenance: handing over (${e.reason})`);
}

function onShutdown(o: Out, p: InstanceParams, now: number): void {
  if (o.s.state === 'STOP') return;
  // RFC 5798 §6.4.3 Shutdown: a master sends an advert with priority 0 so backups skip the down interval.
  if (o.s.state === 'MASTER') o.a.push({ type: 'send-advert', priority: 0 });
  leave(o, p, 'STOP', now, 'shutdown', false);
}

/**
 * The VRRP state machine of one instance (RFC 3768 §6.4 / RFC 5798 §6.4, keepalived semantics for
 * preempt, nopreempt, preempt_delay, sync groups and FAULT). Pure: no clock, sockets or timers;
 * `now` is the driver's monotonic time in ms. Returns the new state and the actions to perform,
 * in order.
 */
export function step(p: InstanceParams, state: InstanceState, event: Event, now: number): StepResult {
  const o: Out = { s: state, a: [] };
  if (state.state === 'STOP' && event.type !== 'start') return { state, actions: [] };
  switch (event.type) {
    case 'start':
      if (state.state === 'INIT' || state.state === 'STOP') onStart(o, p, now);
      break;
    case 'advert':
      onAdvert(o, p, event, now);
      break;
    case 'timer':
      onTimer(o, p, now);
      break;
    case 'track':
      onTrack(o, p, event, now);
      break;
    case 'sync':
      onSync(o, p, event, now);
      break;
    case 'shutdown':
      onShutdown(o, p, now);
      break;
    case 'peer-down':
      onPeerDown(o, p, event, now);
      break;
    case 'peer-ready':
      onPeerReady(o, p, event, now);
      break;
  }
  return { state: o.s, actions: o.a };
}
