import { createRequire } from 'node:module';
import type { ResolvedCheck } from '#shared/config/node-config.ts';
import { CheckError, type ProbeOutcome } from '../types.ts';
import { attempt } from './common.ts';
import { encodeEchoRequest, readIcmp } from './icmp-echo.ts';

/** The slice of raw-socket 1.8 we use (it ships no types). */
interface RawSocket {
  on(ev: 'message', fn: (buf: Buffer, source: string) => void): void;
  on(ev: 'error', fn: (err: Error) => void): void;
  send(buf: Buffer, offset: number, length: number, address: string, cb: (err: Error | null) => void): void;
  close(): void;
}
interface RawModule {
  createSocket(opts: { protocol: number }): RawSocket;
  Protocol: { ICMP: number };
}

type Waiter = (o: ProbeOutcome) => void;

/**
 * PING_CHECK with one raw ICMP socket (raw-socket, already a dependency for VRRP) shared by all
 * ping probes, matched by identifier and sequence. It needs root (CAP_NET_RAW), which the agent
 * has on a director anyway; spawning `ping` per probe would cost a process per attempt. The socket
 * is closed whenever no echo is outstanding so it never holds the event loop open.
 */
export function pingCheck(check: ResolvedCheck, signal: AbortSignal): Promise<ProbeOutcome> {
  return attempt(check, signal, (settle) => {
    const seq = (nextSeq = (nextSeq + 1) & 0xffff);
    const sock = openSocket();
    waiters.set(seq, { address: check.address, settle });
    const pkt = encodeEchoRequest(IDENT, seq);
    sock.send(pkt, 0, pkt.length, check.address, (err) => {
      if (err) settle({ ok: false, detail: `ping send ${err.message}` });
    });
    return () => {
      waiters.delete(seq);
      if (waiters.size === 0) closeSocket();
    };
  });
}

const IDENT = process.pid & 0xffff;
let nextSeq = 0;
let socket: RawSocket | null = null;
const waiters = new Map<number, { address: string; settle: Waiter }>();

function openSocket(): RawSocket {
  if (socket) return socket;
  let raw: RawModule;
  try {
    raw = createRequire(import.meta.url)('raw-socket') as RawModule;
  } catch (err) {
    throw new CheckError('NOT_PERMITTED', `ping needs the raw-socket addon: ${(err as Error).message}`);
  }
  let s: RawSocket;
  try {
    s = raw.createSocket({ protocol: raw.Protocol.ICMP });
  } catch (err) {
    throw new CheckError('NOT_PERMITTED', `ping needs root for a raw ICMP socket: ${(err as Error).message}`);
  }
  s.on('message', (buf) => {
    const r = readIcmp(buf);
    if (r.kind === 'other' || r.id !== IDENT) return;
    const w = waiters.get(r.seq);
    if (!w) return;
    if (r.kind === 'reply' && r.from === w.address) w.settle({ ok: true, detail: `ICMP echo reply from ${r.from}` });
    else if (r.kind === 'unreachable') w.settle({ ok: false, detail: `ICMP destination unreachable (code ${r.code})` });
  });
  s.on('error', (err) => {
    for (const w of [...waiters.values()]) w.settle({ ok: false, detail: `ping socket ${err.message}` });
    socket = null;
  });
  socket = s;
  return s;
}

function closeSocket(): void {
  const s = socket;
  socket = null;
  try {
    s?.close();
  } catch {
    // already closed after an error
  }
}

/** Whether this process can open a raw ICMP socket (tests skip ping otherwise). */
export function canPing(): boolean {
  try {
    openSocket();
    if (waiters.size === 0) closeSocket();
    return true;
  } catch {
    return false;
  }
}
