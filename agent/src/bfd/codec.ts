/** UDP destination port of single-hop BFD Control packets (RFC 5881 §4). */
export const BFD_PORT = 3784;
/** Single-hop BFD is sent with TTL 255 and accepted only with TTL 255 (RFC 5881 §5, GTSM). */
export const BFD_TTL = 255;
/** RFC 5881 §4: the source port of a session is one fixed port from this range. */
export const BFD_SOURCE_PORT_MIN = 49152;
export const BFD_SOURCE_PORT_MAX = 65535;
/** Length of the mandatory section: what we send, with no authentication (RFC 5880 §4.1). */
const BFD_LENGTH = 24;

/** Session states as carried in the Sta field, in wire order 0–3 (RFC 5880 §4.1). */
export const BFD_STATES = ['AdminDown', 'Down', 'Init', 'Up'] as const;
export type BfdState = (typeof BFD_STATES)[number];

/** Diagnostic codes (RFC 5880 §4.1); 9–31 are reserved and decoded as their number. */
export const DIAG = {
  none: 0,
  detectionExpired: 1,
  echoFailed: 2,
  neighborDown: 3,
  forwardingReset: 4,
  pathDown: 5,
  concatenatedPathDown: 6,
  adminDown: 7,
  reverseConcatenatedPathDown: 8,
} as const;

const DIAG_TEXT = [
  'No Diagnostic',
  'Control Detection Time Expired',
  'Echo Function Failed',
  'Neighbor Signaled Session Down',
  'Forwarding Plane Reset',
  'Path Down',
  'Concatenated Path Down',
  'Administratively Down',
  'Reverse Concatenated Path Down',
];

export function diagText(diag: number): string {
  return DIAG_TEXT[diag] ?? `reserved diagnostic ${diag}`;
}

/** One BFD Control packet, field by field (RFC 5880 §4.1). Intervals in microseconds, as on the wire. */
export interface ControlPacket {
  diag: number;
  state: BfdState;
  poll: boolean;
  final: boolean;
  /** C: control plane independent. */
  cpi: boolean;
  /** A: an authentication section follows. We never send one and refuse packets that carry one. */
  auth: boolean;
  /** D: the sender wants Demand mode. */
  demand: boolean;
  /** M: reserved for point-to-multipoint, must be zero. */
  multipoint: boolean;
  detectMult: number;
  myDiscriminator: number;
  yourDiscriminator: number;
  desiredMinTxUs: number;
  requiredMinRxUs: number;
  requiredMinEchoRxUs: number;
}

/**
 * Why a received packet was discarded. The codec returns the reasons that depend on the packet
 * alone (RFC 5880 §6.8.6, first checks, in that order); the session adds `discriminator`
 * (Your Discriminator names no session of ours) and `admin-down` (we are AdminDown).
 */
export type RejectReason =
  | 'short' // fewer bytes than the mandatory section
  | 'version' // Vers ≠ 1
  | 'length' // Length field below the minimum for the A bit, or beyond the UDP payload
  | 'detect-mult' // Detect Mult is zero
  | 'multipoint' // M bit set
  | 'my-discriminator' // My Discriminator is zero
  | 'your-discriminator' // Your Discriminator zero while State is Init or Up
  | 'auth' // A bit set: no authentication is in use on our sessions
  | 'poll-final'; // both P and F set

export const REJECT_REASONS: readonly RejectReason[] = [
  'short',
  'version',
  'length',
  'detect-mult',
  'multipoint',
  'my-discriminator',
  'your-discriminator',
  'auth',
  'poll-final',
];

export type DecodeResult = { ok: true; packet: ControlPacket } | { ok: false; reason: RejectReason };

/** A field the wire format cannot carry, or one we must never send. */
export class BfdCodecError extends Error {
  constructor(
    readonly field: keyof ControlPacket,
    message: string,
  ) {
    super(message);
    this.name = 'BfdCodecError';
  }
}

const U32_MAX = 0xffff_ffff;

function u32(p: ControlPacket, f: 'myDiscriminator' | 'yourDiscriminator' | 'desiredMinTxUs' | 'requiredMinRxUs' | 'requiredMinEchoRxUs'): number {
  const v = p[f];
  if (!Number.isInteger(v) || v < 0 || v > U32_MAX) throw new BfdCodecError(f, `${f} ${v} is not a 32-bit unsigned integer`);
  return v;
}

/**
 * Builds a 24-byte Control packet. Refuses what RFC 5880 forbids a sender: an authentication
 * section we do not implement (A), the M bit, P and F together (§6.8.7), a zero Detect Mult or
 * My Discriminator (§6.8.6 would make the peer discard it).
 */
export function encodeControl(p: ControlPacket): Buffer {
  if (p.diag < 0 || p.diag > 31 || !Number.isInteger(p.diag)) throw new BfdCodecError('diag', `diag ${p.diag} is outside 0-31`);
  if (!Number.isInteger(p.detectMult) || p.detectMult < 1 || p.detectMult > 255)
    throw new BfdCodecError('detectMult', `detect mult ${p.detectMult} is outside 1-255`);
  if (p.auth) throw new BfdCodecError('auth', 'BFD authentication is not supported');
  if (p.multipoint) throw new BfdCodecError('multipoint', 'the M bit must be zero');
  if (p.poll && p.final) throw new BfdCodecError('final', 'a packet never carries both P and F');
  if (u32(p, 'myDiscriminator') === 0) throw new BfdCodecError('myDiscriminator', 'my discriminator must be nonzero');
  const b = Buffer.alloc(BFD_LENGTH);
  b[0] = (1 << 5) | p.diag;
  b[1] = (BFD_STATES.indexOf(p.state) << 6) | (p.poll ? 0x20 : 0) | (p.final ? 0x10 : 0) | (p.cpi ? 0x08 : 0) | (p.demand ? 0x02 : 0);
  b[2] = p.detectMult;
  b[3] = BFD_LENGTH;
  b.writeUInt32BE(p.myDiscriminator, 4);
  b.writeUInt32BE(u32(p, 'yourDiscriminator'), 8);
  b.writeUInt32BE(u32(p, 'desiredMinTxUs'), 12);
  b.writeUInt32BE(u32(p, 'requiredMinRxUs'), 16);
  b.writeUInt32BE(u32(p, 'requiredMinEchoRxUs'), 20);
  return b;
}

/**
 * Decodes the UDP payload of a Control packet and applies the reception checks of RFC 5880
 * §6.8.6 that need no session: version, Length, Detect Mult, M, My Discriminator, Your
 * Discriminator against State, and the A bit (we run no authentication, so A set is a discard).
 * P and F together are discarded too: §6.8.7 forbids sending them, and keepalived drops them.
 * Never throws: any input yields a result.
 */
export function decodeControl(payload: Uint8Array): DecodeResult {
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (b.length < BFD_LENGTH) return { ok: false, reason: 'short' };
  if (b[0] >> 5 !== 1) return { ok: false, reason: 'version' };
  const auth = (b[1] & 0x04) !== 0;
  const length = b[3];
  // §6.8.6: at least 24 bytes, 26 with an authentication section, and no more than arrived.
  if (length < (auth ? BFD_LENGTH + 2 : BFD_LENGTH) || length > b.length) return { ok: false, reason: 'length' };
  const packet: ControlPacket = {
    diag: b[0] & 0x1f,
    state: BFD_STATES[b[1] >> 6],
    poll: (b[1] & 0x20) !== 0,
    final: (b[1] & 0x10) !== 0,
    cpi: (b[1] & 0x08) !== 0,
    auth,
    demand: (b[1] & 0x02) !== 0,
    multipoint: (b[1] & 0x01) !== 0,
    detectMult: b[2],
    myDiscriminator: b.readUInt32BE(4),
    yourDiscriminator: b.readUInt32BE(8),
    desiredMinTxUs: b.readUInt32BE(12),
    requiredMinRxUs: b.readUInt32BE(16),
    requiredMinEchoRxUs: b.readUInt32BE(20),
  };
  if (packet.detectMult === 0) return { ok: false, reason: 'detect-mult' };
  if (packet.multipoint) return { ok: false, reason: 'multipoint' };
  if (packet.myDiscriminator === 0) return { ok: false, reason: 'my-discriminator' };
  if (packet.yourDiscriminator === 0 && packet.state !== 'Down' && packet.state !== 'AdminDown') return { ok: false, reason: 'your-discriminator' };
  if (auth) return { ok: false, reason: 'auth' };
  if (packet.poll && packet.final) return { ok: false, reason: 'poll-final' };
  return { ok: true, packet };
}
