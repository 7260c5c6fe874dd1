import { realServerKey, serviceKey } from '#shared/ipvs/model.ts';

const hexIp = (h: string): string => [0, 2, 4, 6].map((i) => parseInt(h.slice(i, i + 2), 16)).join('.');

/**
 * Active connections per realServerKey(serviceKey, dest) from /proc/net/ip_vs (hex addresses):
 *   TCP  C0A80196:0050 wlc persistent 50
 *     -> C0A80184:0050      Route   2      3          0
 *   FWM  00000001 rr
 */
export function parseProcIpvs(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let svc: string | null = null;
  for (const line of text.split('\n')) {
    const s = /^(TCP|UDP|SCTP)\s+([0-9A-F]{8}):([0-9A-F]{4})\s/i.exec(line);
    const f = /^FWM\s+([0-9A-F]{8})\s/i.exec(line);
    const d = /^\s+->\s+([0-9A-F]{8}):([0-9A-F]{4})\s+\S+\s+\d+\s+(\d+)\s+\d+/i.exec(line);
    if (s) svc = serviceKey({ protocol: s[1].toLowerCase() as 'tcp', address: hexIp(s[2]), port: parseInt(s[3], 16), fwmark: 0 });
    else if (f) svc = serviceKey({ protocol: 'tcp', address: null, port: 0, fwmark: parseInt(f[1], 16) });
    else if (d && svc) out.set(realServerKey(svc, { address: hexIp(d[1]), port: parseInt(d[2], 16) }), Number(d[3]));
  }
  return out;
}
