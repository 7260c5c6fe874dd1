import net from 'node:net';
import type { ResolvedCheck } from '#shared/config/node-config.ts';
import type { ProbeOutcome } from '../types.ts';
import { attempt, errorDetail, hostPort } from './common.ts';

/** TCP_CHECK: up when a connection to address:port completes within connect_timeout. */
export function tcpCheck(check: ResolvedCheck, signal: AbortSignal): Promise<ProbeOutcome> {
  return attempt(check, signal, (settle) => {
    const sock = net.connect({ host: check.address, port: check.port, ...(check.bindTo ? { localAddress: check.bindTo } : {}) });
    sock.once('connect', () => settle({ ok: true, detail: `connected to ${hostPort(check.address, check.port)}` }));
    sock.once('error', (err) => settle({ ok: false, detail: errorDetail('connect', err) }));
    return () => sock.destroy();
  });
}
