import { ipToInt } from '#shared/util/ip.ts';
import type { VrrpChannel, VrrpChannelOptions } from './vrrp-host.ts';
import { VrrpHostError } from './vrrp-host.ts';
import { loadRawSocket, SO_BINDTODEVICE, SOL_SOCKET, type RawSocket } from './raw-socket-addon.ts';

// <linux/in.h> and <asm-generic/socket.h> option numbers (the shared ones in raw-socket-addon.ts).
const SO_RCVBUF = 8;
const IPPROTO_IP = 0;
const IP_TOS = 1;
const IP_TTL = 2;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;

const addr4 = (ip: string) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(ipToInt(ip));
  return b;
};

/** At most this many more datagrams are read per readable event (a flood must not hold the loop). */
export const DRAIN_MAX = 64;

/**
 * raw-socket reads one datagram per readable event, that is one per event-loop turn. When turns
 * are slow (measured in the kernel lab: 1–3 s under a starved CPU) adverts arrive faster than
 * that, queue up in the socket (25 KB found queued) and are acted on tens of seconds late: a
 * MASTER in maintenance kept the VIPs for a minute after its peer had taken over. So the rest of
 * the queue is read in the same turn, as keepalived does, until the socket says EAGAIN.
 */
function drainQueued(s: RawSocket, onPacket: (p: Buffer) => void, onError: (e: Error) => void): void {
  for (let i = 0; i < DRAIN_MAX; i++) {
    let got = false;
    try {
      s.wrap.recv(s.buffer, (buf, bytes) => {
        got = true;
        onPacket(buf.subarray(0, bytes));
      });
    } catch (e) {
      if (!/temporarily unavailable|would block/i.test((e as Error).message)) onError(e as Error);
      return;
    }
    if (!got) return;
  }
}

/**
 * Opens a raw IP protocol 112 socket the way keepalived does (vrrp_scheduler/vrrp.c): bound to the
 * interface, TOS 0xc0 (internetwork control), TTL 255 for unicast and multicast, our address as
 * the multicast interface, no loopback of our own adverts, and 224.0.0.18 joined on the interface.
 */
export function openRawVrrpSocket(o: VrrpChannelOptions, onPacket: (p: Buffer) => void, onError: (e: Error) => void): VrrpChannel {
  const raw = loadRawSocket();
  let s: RawSocket;
  try {
    s = raw.createSocket({ protocol: 112, bufferSize: 2048 });
    const dev = Buffer.from(`${o.interface}\0`);
    s.setOption(SOL_SOCKET, SO_BINDTODEVICE, dev, dev.length);
    s.setOption(SOL_SOCKET, SO_RCVBUF, 1 << 20);
    s.setOption(IPPROTO_IP, IP_TOS, 0xc0);
    s.setOption(IPPROTO_IP, IP_TTL, 255);
    s.setOption(IPPROTO_IP, IP_MULTICAST_TTL, 255);
    s.setOption(IPPROTO_IP, IP_MULTICAST_LOOP, 0);
    const local = addr4(o.sourceAddress);
    s.setOption(IPPROTO_IP, IP_MULTICAST_IF, local, 4);
    if (o.multicast) {
      const mreq = Buffer.concat([addr4('224.0.0.18'), local]);
      s.setOption(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq, 8);
    }
  } catch (e) {
    throw new VrrpHostError('socket', `cannot open VRRP socket on ${o.interface}: ${(e as Error).message} (needs root/CAP_NET_RAW)`);
  }
  // raw-socket hands out a view of its reusable buffer: the driver decodes it synchronously.
  s.on('message', (buf) => {
    onPacket(buf);
    drainQueued(s, onPacket, onError);
  });
  s.on('error', onError);
  let closed = false;
  let pending = 0;
  let drained: (() => void) | null = null;
  return {
    send(vrrp, destination) {
      if (closed) return;
      pending++;
      s.send(vrrp, 0, vrrp.length, destination, (err) => {
        pending--;
        if (err) onError(new VrrpHostError('socket', `send to ${destination} on ${o.interface}: ${err.message}`));
        if (pending === 0) drained?.();
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      if (pending > 0) await new Promise<void>((r) => ((drained = r), setTimeout(r, 500)));
      s.close();
    },
  };
}
