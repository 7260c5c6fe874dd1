/**
 * Reading IPVS inside a namespace. The whole table as an operator sees it is `ipvsadm -Sn` (a
 * process); what the scenarios poll (weights, the connection table) is read from the kernel's own
 * /proc/net/ip_vs and /proc/net/ip_vs_conn through the namespace's anchor (proc-net.ts), which is
 * where `ipvsadm -Lnc` reads the connections too. kernel-smoke checks the weights against `-Sn`,
 * dr the connections against `-Lnc`.
 */
import { procAddress, procIpvsDests } from '../../../agent/src/dataplane/proc-ip-vs.ts';
import { serviceKey } from '../../../shared/ipvs/model.ts';
import { formatHostPort } from '../../../shared/util/ip.ts';
import { procNet } from './proc-net.ts';
import { nsh } from './sh.ts';

/** `ipvsadm -Sn` lines, sorted (the kernel's order is a hash order). */
export async function saveLines(ns: string): Promise<string[]> {
  return (await nsh(ns, 'ipvsadm', '-Sn'))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();
}

/** Real servers (`addr:port` → weight) of one TCP virtual service, from `ipvsadm -Sn` lines. */
export function weightsFromSave(lines: string[], vip: string, port: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of lines) {
    const m = /^-a -t (\S+) -r (\S+) .*-w (\d+)/.exec(l);
    if (m && m[1] === `${vip}:${port}`) out.set(m[2], Number(m[3]));
  }
  return out;
}

/**
 * Real servers (`addr:port` → weight) of one TCP virtual service (`vip` as in `weightsFromSave`:
 * IPv6 in brackets), from /proc/net/ip_vs read by the agent's own parser.
 */
export function weightsFromProc(text: string, vip: string, port: number): Map<string, number> {
  const service = serviceKey({ protocol: 'tcp', address: vip.replace(/^\[(.*)\]$/, '$1'), port, fwmark: 0 });
  return new Map(
    procIpvsDests(text)
      .filter((d) => d.service === service)
      .map((d) => [formatHostPort(d.address, d.port), d.weight]),
  );
}

/** Real servers (`addr:port` → weight) of one TCP virtual service in `ns`. */
export async function realServers(ns: string, vip: string, port: number): Promise<Map<string, number>> {
  return weightsFromProc(await procNet(ns, 'ip_vs'), vip, port);
}

/** Number of virtual services in the namespace. */
export async function serviceCount(ns: string): Promise<number> {
  return (await saveLines(ns)).filter((l) => l.startsWith('-A ')).length;
}

/** One connection, its addresses as `ipvsadm -Lnc` prints them. */
export interface Conn {
  proto: string;
  state: string;
  source: string;
  virtual: string;
  dest: string;
}

/** Connections (not persistence templates, whose protocol reads `IP`) from `ipvsadm -Lnc` output. */
export function connsFromList(text: string): Conn[] {
  const rows: Conn[] = [];
  for (const l of text.split('\n')) {
    const t = l.trim().split(/\s+/);
    if (t.length === 6 && /^(TCP|UDP|SCTP)$/.test(t[0])) rows.push({ proto: t[0], state: t[2], source: t[3], virtual: t[4], dest: t[5] });
  }
  return rows;
}

/**
 * Connections from /proc/net/ip_vs_conn (ip_vs_conn.c ip_vs_conn_seq_show), the file ipvsadm -Lnc
 * formats: `Pro FromIP FPrt ToIP TPrt DestIP DPrt State Expires PEName PEData`, addresses in hex
 * (IPv4) or `%pI6`, ports in hex; the destination may be of the other family (TUN).
 */
export function connsFromProc(text: string): Conn[] {
  const rows: Conn[] = [];
  for (const l of text.split('\n')) {
    const t = l.trim().split(/\s+/);
    if (t.length < 8 || !/^(TCP|UDP|SCTP)$/.test(t[0])) continue;
    const at = (i: number) => formatHostPort(procAddress(t[i]), parseInt(t[i + 1], 16));
    rows.push({ proto: t[0], state: t[7], source: at(1), virtual: at(3), dest: at(5) });
  }
  return rows;
}

/** The connection table of `ns`. */
export async function connections(ns: string): Promise<Conn[]> {
  return connsFromProc(await procNet(ns, 'ip_vs_conn'));
}

/** The same table through `ipvsadm -Lnc` (scenario dr compares the two). */
export async function connectionsListed(ns: string): Promise<Conn[]> {
  return connsFromList(await nsh(ns, 'ipvsadm', '-Lnc'));
}
