import { createRequire } from 'node:module';
import { isIPv6, SocketAddress } from 'node:net';
import type { ResolvedCheck } from '#shared/config/node-config.ts';
import { CheckError, type ProbeOutcome } from '../types.ts';
import { attempt } from './common.ts';
import { encodeEcho6Request, encodeEchoRequest, readIcmp, readIcmp6 } from './icmp-echo.ts';

/** The slice of raw-socket 1.8 we use (it ships no types). */
interface RawSocket {
  on(ev: 'message', fn: (buf: Buffer, source: string) => void): void;
  on(ev: 'error', fn: (err: Error) => void): void;
  send(buf: Buffer, offset: number, length: number, address: string, cb: (err: Error | null) => void): void;
  close(): void;
}
interface RawModule {
  createSocket(opts: { protocol: number; addressFamily?: number }): RawSocket;
  Protocol: { ICMP: number; ICMPv6: number };
  AddressFamily: { IPv4: number; IPv6: number };
}

type Family = 'ipv4' | 'ipv6';
type Waiter = (o: ProbeOutcome) => void;

/**
 * PING_CHECK with one raw socket per address family (raw-socket, already a dependency for VRRP):
 * ICMP echo for IPv4, ICMPv6 echo for IPv6, each shared by all ping probes of its family and
 * matched by identifier and sequence. It needs root (CAP_NET_RAW), which the agent has on a
 * director anyway; spawning `ping` per probe would cost a process per attempt. A socket is
 * closed whenever no echo of its family is outstanding so it never holds the event loop open.
 */
export function pingCheck(check: ResolvedCheck, signal: AbortSignal): Promise<ProbeOutcome> {
  return attempt(check, signal, (settle) => {
    const family: Family = isIPv6(check.address) ? 'ipv6' : 'ipv4';
    const seq = (nextSeq = (nextSeq + 1) & 0xffff);
    const sock = openSocket(family);
    waiters.set(seq, { family, address: canonical(check.address, family), settle });
    const pkt = family === 'ipv6' ? encodeEcho6Request(IDENT, seq) : encodeEchoRequest(IDENT, seq);
    sock.send(pkt, 0, pkt.length, check.address, (err) => {
      if (err) settle({ ok: false, detail: `ping send ${err.message}` });
    });
    return () => {
      waiters.delete(seq);
      if (![...waiters.values()].some((w) => w.family === family)) closeSocket(family);
    };
  });
}

const IDENT = process.pid & 0xffff;
let nextSeq = 0;
const sockets = new Map<Family, RawSocket>();
const waiters = new Map<number, { family: Family; address: string; settle: Waiter }>();

/** The kernel's spelling of an address (inet_ntop), so a reply's source compares equal to the check's address. */
const canonical = (address: string, family: Family): string => {
  try {
    return new SocketAddress({ address, family }).address;
  } catch {
    return address;
  }
};

function openSocket(family: Family): RawSocket {
  const open = sockets.get(family);
  if (open) return open;
  let raw: RawModule;
  try {
    raw = createRequire(import.meta.url)('raw-socket') as RawModule;
  } catch (err) {
    throw new CheckError('NOT_PERMITTED', `ping needs the raw-socket addon: ${(err as Error).message}`);
  }
  let s: RawSocket;
  try {
    s =
      family === 'ipv6'
        ? raw.createSocket({ protocol: raw.Protocol.ICMPv6, addressFamily: raw.AddressFamily.IPv6 })
        : raw.createSocket({ protocol: raw.Protocol.ICMP });
  } catch (err) {
    throw new CheckError('NOT_PERMITTED', `ping needs root for a raw ${family === 'ipv6' ? 'ICMPv6' : 'ICMP'} socket: ${(err as Error).message}`);
  }
  s.on('message', (buf, source) => {
    const r = family === 'ipv6' ? readIcmp6(buf, canonical(source, 'ipv6')) : readIcmp(buf);
    if (r.kind === 'other' || r.id !== IDENT) return;
    const w = waiters.get(r.seq);
    if (!w || w.family !== family) return;
    if (r.kind === 'reply' && r.from === w.address) w.settle({ ok: true, detail: `${family === 'ipv6' ? 'ICMPv6' : 'ICMP'} echo reply from ${r.from}` });
    else if (r.kind === 'unreachable') w.settle({ ok: false, detail: `${family === 'ipv6' ? 'ICMPv6' : 'ICMP'} destination unreachable (code ${r.code})` });
  });
  s.on('error', (err) => {
    for (const w of [...waiters.values()]) if (w.family === family) w.settle({ ok: false, detail: `ping socket ${err.message}` });
    sockets.delete(family);
  });
  sockets.set(family, s);
  return s;
}

function closeSocket(family: Family): void {
  const s = sockets.get(family);
  sockets.delete(family);
  try {
    s?.close();
  } catch {
    // already closed after an error
  }
}

/** Whether this process can open a raw socket of that family (tests skip ping otherwise). */
export function canPing(family: Family = 'ipv4'): boolean {
  try {
    openSocket(family);
    if (![...waiters.values()].some((w) => w.family === family)) closeSocket(family);
    return true;
  } catch {
    return false;
  }
}
