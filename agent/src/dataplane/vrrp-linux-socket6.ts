import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isLinkLocal } from '#shared/util/ip.ts';
import { encodeIp6Packet } from '../vrrp/codec.ts';
import { ip6Text } from '../vrrp/ipv6-address.ts';
import { Supervisor, type HelperHealth, type HelperRestart, type SupervisorClock } from './supervisor.ts';
import type { VrrpChannel, VrrpChannelOptions } from './vrrp-host.ts';
import { VrrpHostError } from './vrrp-host.ts';
import { loadRawSocket, SO_BINDTODEVICE, SOL_SOCKET, type RawSocket } from './raw-socket-addon.ts';

// <linux/in6.h> option numbers (the socket-level ones in raw-socket-addon.ts).
const IPPROTO_IPV6 = 41;
const IPV6_MULTICAST_IF = 17;
const IPV6_MULTICAST_LOOP = 19;
/** An AF_INET6 raw socket of protocol IPPROTO_RAW sends whole IPv6 packets (IPV6_HDRINCL) and receives none. */
const IPPROTO_RAW = 255;

/**
 * The receiving half. raw-socket reads with recvfrom, which gives an IPv6 raw socket's payload
 * and source but neither the hop limit (RFC 5798 §5.1.2.3 wants it checked) nor the destination
 * (the checksum's pseudo-header needs it): those come only as ancillary data (IPV6_RECVHOPLIMIT,
 * IPV6_RECVPKTINFO) to recvmsg, which Node cannot call. So a small long-lived helper does what
 * keepalived does in-process: one raw protocol-112 socket bound to the interface, ff02::12 joined
 * on it (multicast instances), recvmsg with both options on; for every packet it writes the
 * fixed IPv6 header rebuilt from those facts plus the VRRP message, two-byte length first, so the
 * agent's one decoder judges IPv4 and IPv6 alike. It prints `ready` once the socket is open.
 */
const RECEIVER = `
import socket, struct, sys
iface, join = sys.argv[1], sys.argv[2] == '1'
try:
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 112)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
    if join:
        mreq = socket.inet_pton(socket.AF_INET6, 'ff02::12') + struct.pack('@I', socket.if_nametoindex(iface))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
except Exception as e:
    sys.stderr.write('err %r\\n' % (e,))
    sys.exit(3)
out = sys.stdout.buffer
out.write(b'ready\\n')
out.flush()
while True:
    data, anc, flags, addr = s.recvmsg(65535, 256)
    hop, dst = -1, bytes(16)
    for level, kind, value in anc:
        if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_HOPLIMIT:
            hop = struct.unpack('@i', value[:4])[0]
        elif level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO:
            dst = value[:16]
    if hop < 0 or len(data) > 65535 - 40:
        continue
    src = socket.inet_pton(socket.AF_INET6, addr[0].split('%')[0])
    frame = struct.pack('!IHBB', 0x60000000, len(data), 112, hop) + src + dst + data
    out.write(struct.pack('!H', len(frame)) + frame)
    out.flush()
`;

export interface Vrrp6SocketOptions {
  /** python3 for the receiving helper; null = none on this host (the channel cannot open). */
  python: string | null;
  log(line: string): void;
  event?(e: HelperRestart): void;
  clock?: SupervisorClock;
}

/** A v6 channel (with the link-local source it sends from) and the health of its receiving helper. */
export interface Vrrp6Channel extends VrrpChannel {
  readonly sourceAddress: string;
  health(): HelperHealth;
}

/**
 * The first link-local address of `iface` in `/proc/net/if_inet6` text (one address per line: 32
 * hex digits, index, prefix length, scope, flags, name; scope 0x20 is link), or null. Tentative
 * addresses (flag 0x40, duplicate address detection still running) cannot be sent from and are skipped.
 */
export function linkLocalOf(ifInet6: string, iface: string): string | null {
  for (const line of ifInet6.split('\n')) {
    const [hex, , , scope, flags, name] = line.trim().split(/\s+/);
    if (name !== iface || scope !== '20' || !/^[\da-f]{32}$/i.test(hex ?? '')) continue;
    if (parseInt(flags, 16) & 0x40) continue;
    return ip6Text(Buffer.from(hex, 'hex'));
  }
  return null;
}

/** Link-scoped destinations need the interface as their zone for sendto. */
const zoned = (ip: string, iface: string) => (/^(fe[89ab]|ff02)/i.test(ip) ? `${ip}%${iface}` : ip);

/** Splits the helper's stdout into frames (two-byte big-endian length, then the packet). */
function frameReader(onFrame: (f: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 2) {
      const n = pending.readUInt16BE(0);
      if (pending.length < 2 + n) break;
      onFrame(pending.subarray(2, 2 + n));
      pending = pending.subarray(2 + n);
    }
  };
}

/**
 * Opens VRRPv3-over-IPv6 on one interface (RFC 5798 §5.1.2): adverts leave through an
 * AF_INET6/IPPROTO_RAW socket bound to the interface, carrying the IPv6 header we write
 * (`encodeIp6Packet`: hop limit 255, traffic class 0xc0 as keepalived, our link-local source
 * exactly, which raw-socket could not otherwise fix since it cannot bind), with multicast loopback
 * off; receiving goes through the supervised helper above. Adverts leave from the interface's
 * link-local address (RFC 5798 §5.1.2.1): `sourceAddress` when it is one, else the interface's own
 * (keepalived does the same), which the channel reports back for the checksum and tie-break. A
 * channel of unicast instances only sends from `sourceAddress` as it is (the node's `address6`
 * unless the member says otherwise), as keepalived sends from `unicast_src_ip`: keepalived binds
 * its unicast socket to that address and its peers list it.
 */
export async function openRawVrrpSocket6(
  o: VrrpChannelOptions,
  onPacket: (p: Buffer) => void,
  onError: (e: Error) => void,
  opts: Vrrp6SocketOptions,
): Promise<Vrrp6Channel> {
  if (!opts.python) throw new VrrpHostError('socket', `VRRP over IPv6 on ${o.interface} needs python3 for its receiving socket (recvmsg with the hop limit)`);
  const raw = loadRawSocket();
  // Unicast only: from the member's own address (keepalived unicast_src_ip), which is what its
  // peers list and check; RFC 5798's link-local source is the rule for the multicast group.
  const source = !o.multicast || isLinkLocal(o.sourceAddress) ? o.sourceAddress : linkLocalOf(readFileSync('/proc/net/if_inet6', 'utf8'), o.interface);
  if (!source) throw new VrrpHostError('socket', `no usable link-local IPv6 address on ${o.interface} to send VRRP adverts from (RFC 5798 §5.1.2.1)`);
  let s: RawSocket;
  try {
    const ifindex = Number(readFileSync(`/sys/class/net/${o.interface}/ifindex`, 'utf8'));
    s = raw.createSocket({ addressFamily: raw.AddressFamily.IPv6, protocol: IPPROTO_RAW, bufferSize: 2048 });
    const dev = Buffer.from(`${o.interface}\0`);
    s.setOption(SOL_SOCKET, SO_BINDTODEVICE, dev, dev.length);
    s.setOption(IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex);
    s.setOption(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
  } catch (e) {
    throw new VrrpHostError('socket', `cannot open IPv6 VRRP socket on ${o.interface}: ${(e as Error).message} (needs root/CAP_NET_RAW)`);
  }
  s.on('error', onError);

  const python = opts.python;
  let firstReady: ((why: string | null) => void) | null = null;
  const ready = new Promise<string | null>((r) => (firstReady = r));
  const sup = new Supervisor<ChildProcess>({
    name: `vrrp6-receiver:${o.interface}`,
    start(exited) {
      // Own process group, like every helper: a signal to the agent's group leaves it be.
      const child = spawn(python, ['-u', '-c', RECEIVER, o.interface, o.multicast ? '1' : '0'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let started = false;
      let err = '';
      const frames = frameReader(onPacket);
      child.stdout.on('data', (d: Buffer) => {
        if (started) return frames(d);
        const nl = d.indexOf(10);
        if (nl < 0 || d.subarray(0, nl).toString() !== 'ready') return;
        started = true;
        firstReady?.(null);
        firstReady = null;
        if (d.length > nl + 1) frames(d.subarray(nl + 1));
      });
      child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-500)));
      child.on('error', (e) => exited(`failed: ${e.message}`));
      child.on('exit', (code, signal) => {
        const why = `exited (${signal ?? code})${err ? `: ${err.trim()}` : ''}`;
        if (firstReady) {
          firstReady(why);
          firstReady = null;
        }
        exited(why);
      });
      return child;
    },
    stop: (c) => c.kill(),
    log: (l) => opts.log(`vrrp: ${l}`),
    event: opts.event,
    clock: opts.clock,
  });
  sup.ensure();
  const why = await ready;
  if (why !== null) {
    sup.stop();
    s.close();
    throw new VrrpHostError('socket', `cannot receive VRRP over IPv6 on ${o.interface}: receiver ${why}`);
  }

  let closed = false;
  let pending = 0;
  let drained: (() => void) | null = null;
  return {
    sourceAddress: source,
    send(vrrp, destination) {
      if (closed) return;
      pending++;
      const pkt = encodeIp6Packet(vrrp, source, destination);
      s.send(pkt, 0, pkt.length, zoned(destination, o.interface), (err) => {
        pending--;
        if (err) onError(new VrrpHostError('socket', `send to ${destination} on ${o.interface}: ${err.message}`));
        if (pending === 0) drained?.();
      });
    },
    health: () => sup.health(),
    async close() {
      if (closed) return;
      closed = true;
      if (pending > 0) await new Promise<void>((r) => ((drained = r), setTimeout(r, 500)));
      sup.stop();
      s.close();
    },
  };
}
