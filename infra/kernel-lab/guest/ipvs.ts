/** Reading IPVS inside a namespace the way an operator would: `ipvsadm -Sn` and `-Lnc`. */
import { nsh } from './sh.ts';

/** `ipvsadm -Sn` lines, sorted (the kernel's order is a hash order). */
export async function saveLines(ns: string): Promise<string[]> {
  return (await nsh(ns, 'ipvsadm', '-Sn'))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();
}

/** Real servers (`addr:port` → weight) of one virtual service, from `-Sn`. */
export async function realServers(ns: string, vip: string, port: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const l of await saveLines(ns)) {
    const m = /^-a -t (\S+) -r (\S+) .*-w (\d+)/.exec(l);
    if (m && m[1] === `${vip}:${port}`) out.set(m[2], Number(m[3]));
  }
  return out;
}

/** Number of virtual services in the namespace. */
export async function serviceCount(ns: string): Promise<number> {
  return (await saveLines(ns)).filter((l) => l.startsWith('-A ')).length;
}

/** One row of `ipvsadm -Lnc`. */
export interface Conn {
  proto: string;
  state: string;
  source: string;
  virtual: string;
  dest: string;
}

/** The connection table (`ipvsadm -Lnc`). */
export async function connections(ns: string): Promise<Conn[]> {
  const rows: Conn[] = [];
  for (const l of (await nsh(ns, 'ipvsadm', '-Lnc')).split('\n')) {
    const t = l.trim().split(/\s+/);
    if (t.length === 6 && /^(TCP|UDP|SCTP)$/.test(t[0])) rows.push({ proto: t[0], state: t[2], source: t[3], virtual: t[4], dest: t[5] });
  }
  return rows;
}
