import type { IpvsService } from '#shared/ipvs/model.ts';
import type { IpvsCounters, IpvsServiceStats } from './types.ts';

export const zeroCounters = (): IpvsCounters => ({ conns: 0, inPackets: 0, outPackets: 0, inBytes: 0, outBytes: 0 });

const COUNTERS = String.raw`\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$`;
const SERVICE = new RegExp(String.raw`^(TCP|UDP|SCTP)\s+\[?([0-9a-fA-F.:]+?)\]?:(\d+)` + COUNTERS);
const FWMARK = new RegExp(String.raw`^FWM\s+(\d+)` + COUNTERS);
const DEST = new RegExp(String.raw`^\s+->\s+\[?([0-9a-fA-F.:]+?)\]?:(\d+)` + COUNTERS);

const counters = (m: RegExpExecArray, from: number): IpvsCounters => ({
  conns: Number(m[from]),
  inPackets: Number(m[from + 1]),
  outPackets: Number(m[from + 2]),
  inBytes: Number(m[from + 3]),
  outBytes: Number(m[from + 4]),
});

/**
 * Reads `ipvsadm -Ln --stats --exact` (--exact: plain integers, not 12K/3M):
 *   Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
 *     -> RemoteAddress:Port
 *   TCP  10.0.0.1:80                         8      132        0    34840        0
 *     -> 10.0.0.7:80                         4       90        0    24476        0
 *   FWM  7                                   0        0        0        0        0
 */
export function parseIpvsStats(text: string): IpvsServiceStats[] {
  const out: IpvsServiceStats[] = [];
  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = SERVICE.exec(line)))
      out.push({ protocol: m[1].toLowerCase() as IpvsService['protocol'], address: m[2], port: Number(m[3]), fwmark: 0, ...counters(m, 4), dests: [] });
    else if ((m = FWMARK.exec(line))) out.push({ protocol: 'tcp', address: null, port: 0, fwmark: Number(m[1]), ...counters(m, 2), dests: [] });
    else if ((m = DEST.exec(line)) && out.length) out[out.length - 1].dests.push({ address: m[1], port: Number(m[2]), ...counters(m, 3) });
  }
  return out;
}
