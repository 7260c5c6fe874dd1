import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import * as z from 'zod';
import type { ResolvedCheck } from '#shared/config/node-config.ts';
import type { ProbeOutcome } from '../types.ts';
import { attempt, errorDetail, parseParams, udpFamily } from './common.ts';
import { closeQuietly } from './udp.ts';
import { DNS_TYPES, encodeQuery, judgeResponse } from './dns-packet.ts';

const DnsParams = z.object({ queryType: z.enum(Object.keys(DNS_TYPES) as [keyof typeof DNS_TYPES]), name: z.string().min(1) });

/** DNS_CHECK over UDP: one query with a random id; see judgeResponse for what counts as up. */
export function dnsCheck(check: ResolvedCheck, signal: AbortSignal): Promise<ProbeOutcome> {
  const p = parseParams(DnsParams, check);
  const id = randomInt(0, 0x10000);
  const query = encodeQuery(id, p.name, p.queryType);
  return attempt(check, signal, (settle) => {
    const sock = dgram.createSocket(udpFamily(check.address));
    sock.on('message', (msg) => {
      const r = judgeResponse(msg, id);
      if (r.verdict !== 'ignore') settle({ ok: r.verdict === 'up', detail: r.detail });
    });
    // A connected UDP socket reports ICMP port unreachable as ECONNREFUSED.
    sock.on('error', (err) => settle({ ok: false, detail: errorDetail('dns', err) }));
    sock.bind({ port: 0, ...(check.bindTo ? { address: check.bindTo } : {}) }, () => {
      sock.connect(check.port, check.address, () => sock.send(query));
    });
    return () => closeQuietly(sock);
  });
}
