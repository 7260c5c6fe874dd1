import dgram from 'node:dgram';
import * as z from 'zod';
import type { ResolvedCheck } from '#shared/config/node-config.ts';
import type { ProbeOutcome } from '../types.ts';
import { attempt, errorDetail, hexBytes, parseParams, udpFamily } from './common.ts';

const UdpParams = z.object({ payload: z.string().optional(), expect: z.string().optional(), requireReply: z.boolean().optional() });

/** Closes a dgram socket that may already be closed or still binding. */
export function closeQuietly(sock: dgram.Socket): void {
  try {
    sock.close();
  } catch {
    // already closed
  }
}

/**
 * UDP_CHECK: send `payload`; an ICMP port unreachable (ECONNREFUSED on the connected socket) is
 * down. With `expect` (keepalived's require_reply pattern) a reply starting with those bytes is
 * needed; with `requireReply` any reply is; otherwise silence until connect_timeout is up.
 */
export function udpCheck(check: ResolvedCheck, signal: AbortSignal): Promise<ProbeOutcome> {
  const p = parseParams(UdpParams, check);
  const payload = hexBytes(p.payload);
  const expect = p.expect !== undefined ? hexBytes(p.expect) : null;
  const needReply = expect !== null || p.requireReply === true;
  return attempt(check, signal, (settle) => {
    const sock = dgram.createSocket(udpFamily(check.address));
    let timer: NodeJS.Timeout | undefined;
    sock.on('message', (msg) => {
      if (expect && !msg.subarray(0, expect.length).equals(expect)) {
        settle({ ok: false, detail: `UDP reply ${msg.subarray(0, 16).toString('hex')} does not start with ${expect.toString('hex')}` });
      } else settle({ ok: true, detail: `UDP reply of ${msg.length} bytes` });
    });
    sock.on('error', (err) => settle({ ok: false, detail: errorDetail('udp', err) }));
    sock.bind({ port: 0, ...(check.bindTo ? { address: check.bindTo } : {}) }, () => {
      sock.connect(check.port, check.address, () => {
        sock.send(payload);
        if (!needReply) {
          // keepalived waits the whole connect_timeout for an ICMP error; we stop a little short
          // so the attempt reports before the driver's abort.
          const wait = Math.max(1, Math.floor(check.timeoutMs * 0.9));
          timer = setTimeout(() => settle({ ok: true, detail: `no ICMP error within ${wait} ms` }), wait);
        }
      });
    });
    return () => {
      clearTimeout(timer);
      closeQuietly(sock);
    };
  });
}
