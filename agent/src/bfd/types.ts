import type { BfdState, ControlPacket } from './codec.ts';

export type { BfdState };

/** What the pure session needs to know; the driver may pass new values at any step. Intervals in µs, as on the wire. */
export interface SessionParams {
  name: string;
  /** bfd.LocalDiscr: nonzero and unique among this system's sessions (RFC 5880 §6.8.1). */
  localDiscriminator: number;
  /** Configured bfd.DesiredMinTxInterval (keepalived min_tx). Slow start raises it to 1 s until Up. */
  desiredMinTxUs: number;
  /** Configured bfd.RequiredMinRxInterval (keepalived min_rx). */
  requiredMinRxUs: number;
  /** bfd.DetectMult (keepalived multiplier). */
  detectMult: number;
}

/** RFC 5880 §6.8.1 state variables plus the deadlines the driver arms. Plain data. */
export interface SessionState {
  state: BfdState;
  since: number;
  remoteState: BfdState;
  /** bfd.RemoteDiscr: 0 until heard, and again after a Detection Time of silence. */
  remoteDiscr: number;
  localDiag: number;
  remoteDiag: number;
  /** bfd.DesiredMinTxInterval and bfd.RequiredMinRxInterval as we advertise them. */
  desiredMinTxUs: number;
  requiredMinRxUs: number;
  /**
   * The values timing actually uses. While a Poll Sequence runs they lag the advertised ones in
   * the safe direction (§6.8.3): an increased TX interval and a reduced RX interval wait for F.
   */
  txInUseUs: number;
  rxInUseUs: number;
  /** bfd.RemoteMinRxInterval (initialised to 1 µs, §6.8.1), and the peer's last Desired Min TX and Detect Mult. */
  remoteMinRxUs: number;
  remoteDesiredMinTxUs: number;
  remoteDetectMult: number;
  /** bfd.RemoteDemandMode. */
  remoteDemand: boolean;
  /** A Poll Sequence is in progress: our periodic packets carry P (§6.5). */
  polling: boolean;
  /** Deadlines on the driver's monotonic clock (ms), null = not armed. */
  txAt: number | null;
  detectAt: number | null;
  /** When the last valid packet arrived. */
  lastRxAt: number | null;
  /** AdminDown: periodic packets go on until then, so the peer learns why (§6.8.16). */
  adminTxUntil: number | null;
}

/**
 * Inputs. `rand` is a uniform number in [0, 1) from the driver: the jitter of the next periodic
 * transmission (§6.8.7), so the core stays deterministic.
 */
export type Event =
  | { type: 'start'; rand: number }
  /** A packet that passed the codec's checks, from the session's peer. */
  | { type: 'packet'; packet: ControlPacket; rand: number }
  /** The driver fires this at (or after) the earliest deadline; step works out which expired. */
  | { type: 'timer'; rand: number }
  /** Administrative control (§6.8.16): down with a diagnostic (7 AdminDown, 5 Path Down), or back up. */
  | { type: 'admin-down'; diag: number; rand: number }
  | { type: 'admin-up'; rand: number }
  /** The driver passes new params with this event; timer changes go through a Poll Sequence when Up. */
  | { type: 'reconfigure'; rand: number };

export type Action =
  | { type: 'send'; packet: ControlPacket }
  | { type: 'state-change'; from: BfdState; to: BfdState; diag: number; reason: string }
  /** A received packet the session discarded (the codec's own rejects never reach the session). */
  | { type: 'discard'; reason: SessionDiscard };

/** §6.8.6 checks that need the session: Your Discriminator is not ours; we are AdminDown. */
export type SessionDiscard = 'discriminator' | 'admin-down';

export interface StepResult {
  state: SessionState;
  actions: Action[];
}
