import { DIAG, diagText, type BfdState, type ControlPacket } from './codec.ts';
import type { Action, Event, SessionParams, SessionState, StepResult } from './types.ts';

/** §6.8.3: while the session is not Up, bfd.DesiredMinTxInterval is at least one second. */
const SLOW_START_TX_US = 1_000_000;

/** A fresh session: Down, nothing heard, slow-start TX (RFC 5880 §6.8.1 initial values). */
export function initialState(p: SessionParams, now: number): SessionState {
  const tx = Math.max(p.desiredMinTxUs, SLOW_START_TX_US);
  return {
    state: 'Down',
    since: now,
    remoteState: 'Down',
    remoteDiscr: 0,
    localDiag: DIAG.none,
    remoteDiag: DIAG.none,
    desiredMinTxUs: tx,
    requiredMinRxUs: p.requiredMinRxUs,
    txInUseUs: tx,
    rxInUseUs: p.requiredMinRxUs,
    // §6.8.1: bfd.RemoteMinRxInterval starts at 1 µs, so we transmit before hearing the peer.
    remoteMinRxUs: 1,
    remoteDesiredMinTxUs: 0,
    remoteDetectMult: 0,
    remoteDemand: false,
    polling: false,
    txAt: null,
    detectAt: null,
    lastRxAt: null,
    adminTxUntil: null,
  };
}

/** The earliest armed deadline, or null: the driver sets one timer for it. */
export function nextDeadline(s: SessionState): number | null {
  const ds = [s.txAt, s.detectAt].filter((d): d is number => d !== null);
  return ds.length ? Math.min(...ds) : null;
}

/** §6.8.4 Asynchronous mode: the peer's Detect Mult × the agreed interval (its TX, our RX). In ms. */
export function detectionTimeMs(s: SessionState): number {
  return (s.remoteDetectMult * Math.max(s.rxInUseUs, s.remoteDesiredMinTxUs)) / 1000;
}

/** §6.8.7: we send no faster than the peer can receive. In ms. */
export function txIntervalMs(s: SessionState): number {
  return Math.max(s.txInUseUs, s.remoteMinRxUs) / 1000;
}

/** §6.8.7 jitter: 0–25 % shorter, or 10–25 % shorter when Detect Mult is 1. `rand` ∈ [0, 1). */
function jittered(intervalMs: number, detectMult: number, rand: number): number {
  return intervalMs * (detectMult === 1 ? 0.9 - 0.15 * rand : 1 - 0.25 * rand);
}

type Out = { s: SessionState; a: Action[] };

/** §6.8.7 contents of a Control packet. A reply to a poll carries F and never P. */
function controlPacket(p: SessionParams, s: SessionState, final: boolean): ControlPacket {
  return {
    diag: s.localDiag,
    state: s.state,
    poll: s.polling && !final,
    final,
    cpi: false,
    auth: false,
    demand: false,
    multipoint: false,
    detectMult: p.detectMult,
    myDiscriminator: p.localDiscriminator,
    yourDiscriminator: s.remoteDiscr,
    desiredMinTxUs: s.desiredMinTxUs,
    requiredMinRxUs: s.requiredMinRxUs,
    // No Echo function: a zero tells the peer not to send Echo packets (§6.8.9).
    requiredMinEchoRxUs: 0,
  };
}

function send(o: Out, p: SessionParams, final = false): void {
  o.a.push({ type: 'send', packet: controlPacket(p, o.s, final) });
}

function moveTo(o: Out, to: BfdState, diag: number, now: number, reason: string): void {
  o.a.push({ type: 'state-change', from: o.s.state, to, diag, reason });
  o.s = { ...o.s, state: to, since: now, localDiag: diag };
}

/**
 * Brings the advertised timers to what params and state call for (§6.8.3): the configured TX
 * once Up, at least 1 s before. When Up, a change starts a Poll Sequence and timing keeps the
 * safe old value until F arrives: a longer TX interval or a shorter RX interval waits. When not
 * Up, changes apply at once and no poll is needed.
 */
function reconcile(o: Out, p: SessionParams): void {
  const up = o.s.state === 'Up';
  const tx = up ? p.desiredMinTxUs : Math.max(p.desiredMinTxUs, SLOW_START_TX_US);
  const rx = p.requiredMinRxUs;
  const s = o.s;
  if (!up) {
    o.s = { ...s, desiredMinTxUs: tx, requiredMinRxUs: rx, txInUseUs: tx, rxInUseUs: rx, polling: false };
    return;
  }
  if (tx === s.desiredMinTxUs && rx === s.requiredMinRxUs) return;
  o.s = {
    ...s,
    desiredMinTxUs: tx,
    requiredMinRxUs: rx,
    txInUseUs: Math.min(s.txInUseUs, tx),
    rxInUseUs: Math.max(s.rxInUseUs, rx),
    polling: true,
  };
}

/** §6.8.7 rules that stop periodic transmission altogether. */
function periodicAllowed(s: SessionState, now: number): boolean {
  if (s.remoteMinRxUs === 0) return false;
  // The peer runs Demand mode: no periodic packets once both are Up, unless we are polling.
  if (s.remoteDemand && s.state === 'Up' && s.remoteState === 'Up' && !s.polling) return false;
  // §6.8.16: AdminDown packets for a Detection Time, then silence.
  if (s.state === 'AdminDown' && (s.adminTxUntil === null || now >= s.adminTxUntil)) return false;
  return true;
}

/** Re-arms both deadlines from the state: never wait longer than the current TX interval. */
function schedule(o: Out, p: SessionParams, now: number, rand: number): void {
  const s = o.s;
  let txAt = s.txAt;
  if (!periodicAllowed(s, now)) txAt = null;
  else {
    const full = txIntervalMs(s);
    // A shorter interval (peer's RX lowered, poll finished) takes effect now, not after the old one.
    if (txAt === null || txAt > now + full) txAt = now + jittered(full, p.detectMult, rand);
  }
  const detectAt = s.lastRxAt !== null && s.remoteDiscr !== 0 ? s.lastRxAt + detectionTimeMs(s) : null;
  o.s = { ...s, txAt, detectAt };
}

function onPacket(o: Out, p: SessionParams, pk: ControlPacket, now: number): void {
  // §6.8.6: a nonzero Your Discriminator selects the session; one that is not ours finds none.
  if (pk.yourDiscriminator !== 0 && pk.yourDiscriminator !== p.localDiscriminator) {
    o.a.push({ type: 'discard', reason: 'discriminator' });
    return;
  }
  let s: SessionState = {
    ...o.s,
    remoteDiscr: pk.myDiscriminator,
    remoteState: pk.state,
    remoteDiag: pk.diag,
    remoteDemand: pk.demand,
    remoteMinRxUs: pk.requiredMinRxUs,
    remoteDesiredMinTxUs: pk.desiredMinTxUs,
    remoteDetectMult: pk.detectMult,
  };
  // §6.5: F ends our Poll Sequence; the new timers now govern transmission and detection.
  if (pk.final && s.polling) s = { ...s, polling: false, txInUseUs: s.desiredMinTxUs, rxInUseUs: s.requiredMinRxUs };
  o.s = s;
  // §6.8.6: an AdminDown session updates what it knows of the peer but discards the rest.
  if (s.state === 'AdminDown') {
    o.a.push({ type: 'discard', reason: 'admin-down' });
    return;
  }
  const peer = `peer ${pk.state}${pk.diag ? ` (${diagText(pk.diag)})` : ''}`;
  // §6.8.6 state machine (the three-way handshake, and the peer signalling Down).
  if (pk.state === 'AdminDown') {
    if (s.state !== 'Down') moveTo(o, 'Down', DIAG.neighborDown, now, peer);
  } else if (s.state === 'Down') {
    if (pk.state === 'Down') moveTo(o, 'Init', DIAG.none, now, peer);
    else if (pk.state === 'Init') moveTo(o, 'Up', DIAG.none, now, peer);
  } else if (s.state === 'Init') {
    if (pk.state === 'Init' || pk.state === 'Up') moveTo(o, 'Up', DIAG.none, now, peer);
  } else if (pk.state === 'Down') moveTo(o, 'Down', DIAG.neighborDown, now, peer);
  reconcile(o, p);
  // §6.8.6: P is answered with F at once, regardless of the transmission timer.
  if (pk.poll) send(o, p, true);
  // §6.8.6: a packet not discarded restarts the Detection Time.
  o.s = { ...o.s, lastRxAt: now };
}

function onTimer(o: Out, p: SessionParams, now: number): void {
  const s = o.s;
  if (s.detectAt !== null && now >= s.detectAt) {
    const silent = s.lastRxAt === null ? '' : ` for ${Math.round(now - s.lastRxAt)} ms`;
    // §6.8.1: after a Detection Time of silence bfd.RemoteDiscr is zero again.
    o.s = { ...s, remoteDiscr: 0, lastRxAt: null };
    // §6.8.4: an Init or Up session whose Detection Time expires goes Down, diag 1.
    if (s.state === 'Init' || s.state === 'Up') {
      moveTo(o, 'Down', DIAG.detectionExpired, now, `no packet from the peer${silent} (detection time ${detectionTimeMs(s)} ms)`);
      reconcile(o, p);
    }
  }
  if (o.s.txAt !== null && now >= o.s.txAt) {
    if (periodicAllowed(o.s, now)) send(o, p);
    o.s = { ...o.s, txAt: null };
  }
}

function onAdminDown(o: Out, p: SessionParams, diag: number, now: number): void {
  if (o.s.state === 'AdminDown') return;
  // The peer's Detection Time for us, at the rate it currently expects from us.
  const window = p.detectMult * txIntervalMs(o.s);
  moveTo(o, 'AdminDown', diag, now, `administratively down (${diagText(diag)})`);
  o.s = { ...o.s, adminTxUntil: now + window };
  reconcile(o, p);
  send(o, p);
  o.s = { ...o.s, txAt: null };
}

function onAdminUp(o: Out, p: SessionParams, now: number): void {
  if (o.s.state !== 'AdminDown') return;
  moveTo(o, 'Down', DIAG.none, now, 'administratively enabled');
  o.s = { ...o.s, adminTxUntil: null };
  reconcile(o, p);
  send(o, p);
  o.s = { ...o.s, txAt: null };
}

/**
 * One BFD session in Asynchronous mode (RFC 5880 §6, single hop per RFC 5881): the three-way
 * handshake, detection, Poll Sequences for timer changes, slow start and administrative
 * control. No Echo, no Demand mode of our own, no authentication. Pure: `now` is the driver's
 * monotonic time in ms and every event carries the random number for the next jitter.
 */
export function step(p: SessionParams, state: SessionState, event: Event, now: number): StepResult {
  const o: Out = { s: state, a: [] };
  switch (event.type) {
    case 'start':
      // Announce ourselves at once rather than after a first (1 s) interval.
      if (state.txAt === null && state.state !== 'AdminDown') {
        reconcile(o, p);
        send(o, p);
      }
      break;
    case 'packet':
      onPacket(o, p, event.packet, now);
      break;
    case 'timer':
      onTimer(o, p, now);
      break;
    case 'admin-down':
      onAdminDown(o, p, event.diag, now);
      break;
    case 'admin-up':
      onAdminUp(o, p, now);
      break;
    case 'reconfigure':
      reconcile(o, p);
      break;
  }
  schedule(o, p, now, event.rand);
  return { state: o.s, actions: o.a };
}
