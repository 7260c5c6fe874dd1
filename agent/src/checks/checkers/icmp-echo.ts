/** ICMP echo request (RFC 792, type 8 code 0) with the Internet checksum (RFC 1071). */
export function encodeEchoRequest(id: number, seq: number, payload: Buffer = Buffer.from('lvsfleet')): Buffer {
  const b = Buffer.alloc(8 + payload.length);
  b.writeUInt8(8, 0);
  b.writeUInt8(0, 1);
  b.writeUInt16BE(id & 0xffff, 4);
  b.writeUInt16BE(seq & 0xffff, 6);
  payload.copy(b, 8);
  b.writeUInt16BE(internetChecksum(b), 2);
  return b;
}

/** RFC 1071 one's-complement sum of 16-bit words. */
export function internetChecksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length % 2) sum += b[b.length - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

export type IcmpReading =
  { kind: 'reply'; from: string; id: number; seq: number } | { kind: 'unreachable'; id: number; seq: number; code: number } | { kind: 'other' };

/**
 * Reads an IPv4 datagram from a raw ICMP socket (the IP header is included): an echo reply
 * (type 0), or a destination unreachable (type 3) quoting one of our echo requests.
 */
export function readIcmp(packet: Buffer): IcmpReading {
  if (packet.length < 20) return { kind: 'other' };
  const ihl = (packet[0] & 0x0f) * 4;
  const icmp = packet.subarray(ihl);
  if (icmp.length < 8) return { kind: 'other' };
  const from = `${packet[12]}.${packet[13]}.${packet[14]}.${packet[15]}`;
  if (icmp[0] === 0) return { kind: 'reply', from, id: icmp.readUInt16BE(4), seq: icmp.readUInt16BE(6) };
  if (icmp[0] === 3 && icmp.length >= 8 + 20 + 8) {
    const inner = icmp.subarray(8);
    const innerIhl = (inner[0] & 0x0f) * 4;
    const q = inner.subarray(innerIhl);
    if (inner[9] === 1 && q.length >= 8 && q[0] === 8) return { kind: 'unreachable', id: q.readUInt16BE(4), seq: q.readUInt16BE(6), code: icmp[1] };
  }
  return { kind: 'other' };
}

/**
 * ICMPv6 echo request (RFC 4443 §4.1, type 128 code 0). The checksum stays 0: it covers an
 * IPv6 pseudo-header the sender cannot see, so the kernel computes it for every raw ICMPv6
 * socket (RFC 3542 §3.1).
 */
export function encodeEcho6Request(id: number, seq: number, payload: Buffer = Buffer.from('lvsfleet')): Buffer {
  const b = Buffer.alloc(8 + payload.length);
  b.writeUInt8(128, 0);
  b.writeUInt16BE(id & 0xffff, 4);
  b.writeUInt16BE(seq & 0xffff, 6);
  payload.copy(b, 8);
  return b;
}

/** IPv6 next-header value of ICMPv6. */
const NEXT_HEADER_ICMPV6 = 58;

/**
 * Reads an ICMPv6 message from a raw ICMPv6 socket (no IPv6 header: the kernel strips it and
 * `from` is the socket's source address): an echo reply (type 129, RFC 4443 §4.2), or a
 * destination unreachable (type 1, §3.1) quoting one of our echo requests right after the
 * quoted IPv6 header. Everything else a raw ICMPv6 socket sees (Neighbor Discovery, MLD) is other.
 */
export function readIcmp6(message: Buffer, from: string): IcmpReading {
  if (message.length < 8) return { kind: 'other' };
  if (message[0] === 129) return { kind: 'reply', from, id: message.readUInt16BE(4), seq: message.readUInt16BE(6) };
  if (message[0] === 1 && message.length >= 8 + 40 + 8) {
    const inner = message.subarray(8);
    const q = inner.subarray(40);
    if (inner[6] === NEXT_HEADER_ICMPV6 && q[0] === 128) return { kind: 'unreachable', id: q.readUInt16BE(4), seq: q.readUInt16BE(6), code: message[1] };
  }
  return { kind: 'other' };
}
