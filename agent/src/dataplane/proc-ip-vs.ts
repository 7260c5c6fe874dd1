import { SocketAddress } from 'node:net';
import { realServerKey, serviceKey } from '#shared/ipvs/model.ts';
import { eachLineInSteps } from '#shared/util/lines-in-steps.ts';

const hexIp4 = (h: string): string => [0, 2, 4, 6].map((i) => parseInt(h.slice(i, i + 2), 16)).join('.');

/**
 * `%pI6` prints all eight groups zero-padded (`2001:0db8:0000:…:0050`); ipvsadm -Sn prints
 * inet_ntop's compressed form (`2001:db8::50`). Keys must match, so both go through inet_ntop.
 */
const ip6 = (full: string): string => new SocketAddress({ address: full, family: 'ipv6' }).address;

/** An address as /proc/net/ip_vs prints it: `C0A80196` (IPv4, hex) or `[2001:0db8:…:0050]` (IPv6). */
const ADDR = String.raw`([0-9A-F]{8}|\[[0-9a-f:]+\])`;

/**
 * An address as the kernel's IPVS files print it, spelled as ipvsadm prints it: IPv4 as 8 hex
 * digits, IPv6 as `%pI6`, in brackets in /proc/net/ip_vs and bare in /proc/net/ip_vs_conn.
 */
export function procAddress(s: string): string {
  return s.startsWith('[') ? ip6(s.slice(1, -1)) : s.includes(':') ? ip6(s) : hexIp4(s);
}

const SERVICE = new RegExp(String.raw`^(TCP|UDP|SCTP)\s+${ADDR}:([0-9A-F]{4})\s`, 'i');
const FWMARK = /^FWM\s+([0-9A-F]{8})\s/i;
const DEST = new RegExp(String.raw`^\s+->\s+${ADDR}:([0-9A-F]{4})\s+\S+\s+(\d+)\s+(\d+)\s+\d+`, 'i');

/** One destination of /proc/net/ip_vs: its service's key (serviceKey), address and port as ipvsadm -Sn spells them, weight and active connections. */
export interface ProcIpvsDest {
  service: string;
  address: string;
  port: number;
  weight: number;
  activeConns: number;
}

/**
 * The destinations of /proc/net/ip_vs, as the kernel prints it (ip_vs_ctl.c ip_vs_info_seq_show):
 * IPv4 in hex, IPv6 as `%pI6` in brackets, ports in hex. A service and its destinations may be of
 * different families (TUN).
 *   TCP  C0A80196:0050 wlc persistent 50
 *     -> C0A80184:0050      Route   2      3          0
 *   TCP  [2001:0db8:006c:0000:0000:0000:0000:0050]:0050 rr
 *     -> [2001:0db8:006c:0000:0000:0000:0001:0001]:0050      Route   1      4          0
 *   FWM  00000001 rr
 *     -> [2001:0db8:0000:0000:0000:0000:0000:0007]:0000      Tunnel  1      1          0
 */
export function procIpvsDests(text: string): ProcIpvsDest[] {
  const r = new ProcIpvsReader();
  for (const line of text.split('\n')) r.add(line);
  return r.dests;
}

/** The destinations /proc/net/ip_vs lines list, a line at a time. */
class ProcIpvsReader {
  readonly dests: ProcIpvsDest[] = [];
  private svc: string | null = null;
  private mark = 0;

  add(line: string): void {
    const s = SERVICE.exec(line);
    const f = FWMARK.exec(line);
    const d = DEST.exec(line);
    if (s) {
      this.svc = serviceKey({ protocol: s[1].toLowerCase() as 'tcp', address: procAddress(s[2]), port: parseInt(s[3], 16), fwmark: 0 });
      this.mark = 0;
    } else if (f) {
      this.svc = null;
      this.mark = parseInt(f[1], 16);
    } else if (d && (this.svc || this.mark)) {
      // An FWM line does not say its family (`-f 1` and `-f 1 -6` are two services): its
      // destinations do, since only TUN may cross families and an fwmark pool rarely mixes them.
      const service =
        this.svc ?? serviceKey({ protocol: 'tcp', address: null, port: 0, fwmark: this.mark, ...(d[1].startsWith('[') ? { family: 6 as const } : {}) });
      this.dests.push({ service, address: procAddress(d[1]), port: parseInt(d[2], 16), weight: Number(d[3]), activeConns: Number(d[4]) });
    }
  }
}

/**
 * Active connections per realServerKey(serviceKey, dest), from /proc/net/ip_vs, awaiting
 * `between()` whenever a run of lines has taken `stepMs`: 10,000 real servers are 10-18 ms of
 * reading, at every pass, right after `ipvsadm -Sn`'s (also in steps).
 */
export async function parseProcIpvsInSteps(text: string, between: () => Promise<void>, stepMs = 8): Promise<Map<string, number>> {
  const r = new ProcIpvsReader();
  await eachLineInSteps(text, (line) => r.add(line), between, stepMs);
  return new Map(r.dests.map((d) => [realServerKey(d.service, d), d.activeConns]));
}
