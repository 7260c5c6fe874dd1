import { intToIp, ipToInt } from '#shared/util/ip.ts';
import { internetChecksum } from './checksum.ts';
import { ip6Bytes, ip6Text } from './ipv6-address.ts';

/** The family of an address already validated (the NodeConfig schema): only IPv6 text has a colon. */
const isIpv6 = (ip: string): boolean => ip.includes(':');

/** IP protocol number of VRRP (RFC 3768 §5.2.4, RFC 5798 §5.1.1.4). */
const VRRP_PROTOCOL = 112;
/** 224.0.0.18, the VRRP multicast group (RFC 5798 §5.1.1.2). */
export const VRRP_GROUP = '224.0.0.18';
/** ff02::12, the VRRP multicast group over IPv6 (RFC 5798 §5.1.2.2). */
export const VRRP_GROUP6 = 'ff02::12';
/** The IP TTL / IPv6 hop limit every advert must carry and every receiver must check (RFC 5798 §5.1.1.3, §5.1.2.3). */
const VRRP_TTL = 255;

/** Why a received packet was dropped; stable codes, counted per interface. */
export type DropReason =
  | 'ttl' // IP TTL or IPv6 hop limit ≠ 255
  | 'peer' // a unicast instance's advert from an address that is none of its peers
  | 'checksum' // VRRP checksum wrong
  | 'version' // not 2/3, or not the version the instance runs
  | 'type' // type ≠ 1 (ADVERTISEMENT)
  | 'auth' // v2 authentication type or password mismatch
  | 'auth_ah' // v2 IPsec AH authentication: not supported
  | 'interval' // v2 advert interval differs from ours (RFC 3768 §7.1)
  | 'length' // malformed length (IP or VRRP)
  | 'not_vrrp' // not IPv4/IPv6 or not protocol 112
  | 'vrid'; // no instance of ours has this VRID

const DROP_REASONS: readonly DropReason[] = ['ttl', 'peer', 'checksum', 'version', 'type', 'auth', 'auth_ah', 'interval', 'length', 'not_vrrp', 'vrid'];

/** One decoded advertisement, independent of the instance that will judge it. */
export interface Advert {
  version: 2 | 3;
  vrid: number;
  priority: number;
  /** v2: whole seconds × 1000; v3: centiseconds × 10. */
  intervalMs: number;
  addresses: string[];
  /** v2 only: 0 none, 1 PASS, 2 AH; and the 8 auth bytes for PASS. */
  authType: number;
  authData: Buffer | null;
}

/** An advert with the IP facts a receiver needs. */
interface ReceivedAdvert extends Advert {
  source: string;
  destination: string;
  ttl: number;
}

export type DecodeResult = { ok: true; advert: ReceivedAdvert } | { ok: false; reason: DropReason };

/** v2 AUTH types (RFC 3768 §5.3.6). */
export const AUTH_NONE = 0;
export const AUTH_PASS = 1;
export const AUTH_AH = 2;

export interface EncodeInput {
  version: 2 | 3;
  vrid: number;
  priority: number;
  intervalMs: number;
  addresses: string[];
  /** v2 PASS password (≤ 8 bytes, zero padded); null = no authentication. */
  password?: string | null;
  /**
   * v3 checksum needs the IPv4 or IPv6 pseudo-header; the family of `source` is the advert's
   * (an IPv6 advert carries 16-byte addresses, RFC 5798 §5.2.9).
   */
  source: string;
  destination: string;
}

/** Error from encoding: a parameter the wire format cannot carry. */
export class VrrpCodecError extends Error {
  constructor(
    readonly code: 'interval' | 'priority' | 'vrid' | 'addresses' | 'password',
    message: string,
  ) {
    super(message);
    this.name = 'VrrpCodecError';
  }
}

/** RFC 8200 §8.1: source, destination, upper-layer length (32 bits), 3 zero bytes, next header. */
function pseudoHeader6(source: Uint8Array, destination: Uint8Array, length: number): Buffer {
  const b = Buffer.alloc(40);
  b.set(source, 0);
  b.set(destination, 16);
  b.writeUInt32BE(length, 32);
  b[39] = VRRP_PROTOCOL;
  return b;
}

function pseudoHeader(source: string, destination: string, length: number): Buffer {
  if (isIpv6(source)) return pseudoHeader6(ip6Bytes(source), ip6Bytes(destination), length);
  const b = Buffer.alloc(12);
  b.writeUInt32BE(ipToInt(source), 0);
  b.writeUInt32BE(ipToInt(destination), 4);
  b[9] = VRRP_PROTOCOL;
  b.writeUInt16BE(length, 10);
  return b;
}

/**
 * Builds the VRRP part of an advertisement (what a raw socket without IP_HDRINCL sends).
 * v2: RFC 3768 §5.3 (Adver Int in seconds, checksum over the VRRP message only, 8 auth bytes).
 * v3: RFC 5798 §5.2 (Max Adver Int in centiseconds, checksum including the IPv4 pseudo-header, or
 * over IPv6 the RFC 8200 §8.1 pseudo-header (§5.2.8) and 16-byte IPv6 addresses (§5.2.9)).
 */
export function encodeAdvert(a: EncodeInput): Buffer {
  if (a.vrid < 1 || a.vrid > 255) throw new VrrpCodecError('vrid', `VRID ${a.vrid} is outside 1-255`);
  if (a.priority < 0 || a.priority > 255) throw new VrrpCodecError('priority', `priority ${a.priority} is outside 0-255`);
  // VRRPv2 adverts may carry no address (keepalived sends them for an instance without VIPs);
  // RFC 5798 §5.2.9 asks VRRPv3 for at least one.
  const minAddresses = a.version === 2 ? 0 : 1;
  if (a.addresses.length < minAddresses || a.addresses.length > 255)
    throw new VrrpCodecError('addresses', `a VRRPv${a.version} advert carries ${minAddresses}-255 addresses`);
  const n = a.addresses.length;
  const v6 = isIpv6(a.source);
  if (v6 && a.version === 2) throw new VrrpCodecError('addresses', 'VRRPv2 runs over IPv4 only (RFC 5798 §1.1); IPv6 needs version 3');
  if (a.addresses.some((ip) => isIpv6(ip) !== v6))
    throw new VrrpCodecError('addresses', `an advert from ${a.source} carries IPv${v6 ? 6 : 4} addresses only (RFC 5798 §5.2.9)`);
  const size = v6 ? 16 : 4;
  let buf: Buffer;
  if (a.version === 2) {
    const secs = a.intervalMs / 1000;
    if (!Number.isInteger(secs) || secs < 1 || secs > 255)
      throw new VrrpCodecError('interval', `VRRPv2 advert interval must be 1-255 whole seconds, got ${a.intervalMs} ms`);
    const pw = a.password ? Buffer.from(a.password, 'utf8') : null;
    if (pw && pw.length > 8) throw new VrrpCodecError('password', 'PASS passwords are at most 8 bytes');
    buf = Buffer.alloc(8 + 4 * n + 8);
    buf[0] = 0x21;
    buf[4] = pw ? AUTH_PASS : AUTH_NONE;
    buf[5] = secs;
    if (pw) pw.copy(buf, 8 + 4 * n);
  } else {
    const cs = a.intervalMs / 10;
    if (!Number.isInteger(cs) || cs < 1 || cs > 4095)
      throw new VrrpCodecError('interval', `VRRPv3 advert interval must be 10-40950 ms in steps of 10, got ${a.intervalMs} ms`);
    buf = Buffer.alloc(8 + size * n);
    buf[0] = 0x31;
    buf.writeUInt16BE(cs, 4); // 4 reserved bits stay zero
  }
  buf[1] = a.vrid;
  buf[2] = a.priority;
  buf[3] = n;
  a.addresses.forEach((ip, i) => (v6 ? buf.set(ip6Bytes(ip), 8 + 16 * i) : buf.writeUInt32BE(ipToInt(ip), 8 + 4 * i)));
  const sum = a.version === 2 ? internetChecksum(buf) : internetChecksum(pseudoHeader(a.source, a.destination, buf.length), buf);
  buf.writeUInt16BE(sum, 6);
  return buf;
}

/**
 * Wraps a VRRP message in an IPv4 header as the kernel sends it for keepalived (TOS 0xc0, TTL 255,
 * no DF). Used by tests and the simulator; the driver lets the kernel write the header.
 */
export function encodeIpPacket(vrrp: Buffer, source: string, destination: string, id = 0, ttl = VRRP_TTL): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h[1] = 0xc0;
  h.writeUInt16BE(20 + vrrp.length, 2);
  h.writeUInt16BE(id, 4);
  h[8] = ttl;
  h[9] = VRRP_PROTOCOL;
  h.writeUInt32BE(ipToInt(source), 12);
  h.writeUInt32BE(ipToInt(destination), 16);
  h.writeUInt16BE(internetChecksum(h), 10);
  return Buffer.concat([h, vrrp]);
}

/**
 * Wraps a VRRP message in an IPv6 header as keepalived's adverts leave (traffic class 0xc0, hop
 * limit 255, next header 112, no extension headers; RFC 5798 §5.1.2). The Linux channel sends
 * this on an IPPROTO_RAW socket, so the source is exactly the link-local address given.
 */
export function encodeIp6Packet(vrrp: Buffer, source: string, destination: string, hopLimit = VRRP_TTL, flowLabel = 0): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(((0x6c << 24) | (flowLabel & 0xfffff)) >>> 0, 0);
  h.writeUInt16BE(vrrp.length, 4);
  h[6] = VRRP_PROTOCOL;
  h[7] = hopLimit;
  h.set(ip6Bytes(source), 8);
  h.set(ip6Bytes(destination), 24);
  return Buffer.concat([h, vrrp]);
}

/** The IP facts of a packet and where its VRRP message starts, or why it is none. */
type IpFrame =
  { ok: true; ttl: number; source: string; destination: string; pseudo: (len: number) => Buffer; vrrp: Buffer } | { ok: false; reason: DropReason };

function ipv4Frame(b: Buffer): IpFrame {
  if (b.length < 20) return { ok: false, reason: 'length' };
  const ihl = (b[0] & 0x0f) * 4;
  if (ihl < 20 || b.length < ihl) return { ok: false, reason: 'length' };
  if (b[9] !== VRRP_PROTOCOL) return { ok: false, reason: 'not_vrrp' };
  // Linux raw sockets report the total length as sent; trust the smaller of it and what arrived.
  const total = Math.min(b.readUInt16BE(2), b.length);
  if (total < ihl + 8) return { ok: false, reason: 'length' };
  const source = intToIp(b.readUInt32BE(12));
  const destination = intToIp(b.readUInt32BE(16));
  return { ok: true, ttl: b[8], source, destination, pseudo: (len) => pseudoHeader(source, destination, len), vrrp: b.subarray(ihl, total) };
}

/** IPv6: a fixed 40-byte header whose next header is VRRP (keepalived sends no extension headers). */
function ipv6Frame(b: Buffer): IpFrame {
  if (b.length < 40) return { ok: false, reason: 'length' };
  if (b[6] !== VRRP_PROTOCOL) return { ok: false, reason: 'not_vrrp' };
  const total = Math.min(40 + b.readUInt16BE(4), b.length);
  if (total < 48) return { ok: false, reason: 'length' };
  const src = b.subarray(8, 24);
  const dst = b.subarray(24, 40);
  return { ok: true, ttl: b[7], source: ip6Text(src), destination: ip6Text(dst), pseudo: (len) => pseudoHeader6(src, dst, len), vrrp: b.subarray(40, total) };
}

/**
 * Decodes a packet as a raw socket delivers it, IP header included: IPv4, or IPv6 (its fixed
 * header; the Linux channel rebuilds it from what the kernel reports with the message). Checks
 * what can be checked without knowing the instance: IP framing, TTL/hop limit 255, version,
 * type, lengths, checksum (RFC 5798 §7.1). Never throws: any input yields a result. `anyTtl`
 * skips the TTL check (a unicast instance's peers are checked by address instead: channels.ts).
 */
export function decodePacket(pkt: Uint8Array, o: { anyTtl?: boolean } = {}): DecodeResult {
  const b = Buffer.from(pkt.buffer, pkt.byteOffset, pkt.byteLength);
  if (b.length < 1) return { ok: false, reason: 'length' };
  const family = b[0] >> 4;
  if (family !== 4 && family !== 6) return { ok: false, reason: 'not_vrrp' };
  const f = family === 4 ? ipv4Frame(b) : ipv6Frame(b);
  if (!f.ok) return f;
  const { ttl, source, destination, vrrp: v } = f;
  // RFC 5798 §7.1 order: TTL, version, full length, checksum; VRID and auth come per instance.
  if (ttl !== VRRP_TTL && !o.anyTtl) return { ok: false, reason: 'ttl' };
  const version = v[0] >> 4;
  // VRRPv2 exists over IPv4 only (RFC 5798 §1.1).
  if ((version !== 2 && version !== 3) || (family === 6 && version !== 3)) return { ok: false, reason: 'version' };
  if ((v[0] & 0x0f) !== 1) return { ok: false, reason: 'type' };
  const n = v[3];
  const size = family === 6 ? 16 : 4;
  const expected = 8 + size * n + (version === 2 ? 8 : 0);
  if ((n === 0 && version === 3) || v.length < expected) return { ok: false, reason: 'length' };
  const msg = v.subarray(0, expected);
  const sum = version === 2 ? internetChecksum(msg) : internetChecksum(f.pseudo(msg.length), msg);
  if (sum !== 0) return { ok: false, reason: 'checksum' };
  const addresses: string[] = [];
  for (let i = 0; i < n; i++) addresses.push(size === 16 ? ip6Text(msg.subarray(8 + 16 * i, 24 + 16 * i)) : intToIp(msg.readUInt32BE(8 + 4 * i)));
  const intervalMs = version === 2 ? msg[5] * 1000 : (msg.readUInt16BE(4) & 0x0fff) * 10;
  return {
    ok: true,
    advert: {
      version,
      vrid: msg[1],
      priority: msg[2],
      intervalMs,
      addresses,
      authType: version === 2 ? msg[4] : AUTH_NONE,
      authData: version === 2 ? Buffer.from(msg.subarray(8 + 4 * n, expected)) : null,
      source,
      destination,
      ttl,
    },
  };
}

/** What an instance expects from its peers' adverts. */
export interface AdvertExpectation {
  version: 2 | 3;
  intervalMs: number;
  password: string | null;
}

/**
 * Instance-level checks (RFC 3768 §7.1): version, v2 authentication (PASS only; AH refused with
 * `auth_ah`) and the v2 advert interval. Returns null when the advert is acceptable.
 */
export function checkAdvert(a: Advert, want: AdvertExpectation): DropReason | null {
  if (a.version !== want.version) return 'version';
  if (a.version === 3) return null;
  if (a.authType === AUTH_AH) return 'auth_ah';
  if (want.password) {
    const pw = Buffer.alloc(8);
    Buffer.from(want.password, 'utf8').copy(pw);
    if (a.authType !== AUTH_PASS || !a.authData || !pw.equals(a.authData)) return 'auth';
  } else if (a.authType !== AUTH_NONE) return 'auth';
  if (a.intervalMs !== want.intervalMs) return 'interval';
  return null;
}

/** Per-reason drop counters (exported in status/metrics). */
export type DropCounters = Record<DropReason, number>;

export function newDropCounters(): DropCounters {
  return Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as DropCounters;
}
