/**
 * IPVS as ipvsadm sees it: virtual services with their destinations (real servers). The one
 * model of the kernel table: the agent reads the kernel into it and plans against it, `export
 * ipvsadm` renders it, `import ipvsadm` reads rules into it.
 */
export type IpvsProtocol = 'tcp' | 'udp' | 'sctp';
export type IpvsForwarding = 'dr' | 'nat' | 'tun';

/** A virtual service without its destinations: `-A`/`-E` arguments. */
export interface IpvsService {
  /** 'tcp' for an fwmark service (the protocol is not part of its identity). */
  protocol: IpvsProtocol;
  /** null for an fwmark service (`-f`). */
  address: string | null;
  /** 0 for an fwmark service. */
  port: number;
  /** 0 unless this is an fwmark service. */
  fwmark: number;
  /**
   * 6 for an IPv6 service (AF_INET6: an IPv6 VIP, or an fwmark service of IPv6 packets, which
   * ipvsadm writes `-f MARK -6`); absent for IPv4.
   */
  family?: 6;
  scheduler: string;
  /** `-b` flags, sorted; `flag-N` of sh/mh named (sh-fallback, sh-port, mh-fallback, mh-port). */
  flags: string[];
  /** `-p` / `-M`: the netmask is dotted for IPv4 and a prefix length (`128`) for IPv6, as ipvsadm reads and prints it. */
  persistence: { timeoutS: number; netmask: string } | null;
  onePacket: boolean;
}

/** A destination: `-a`/`-e` arguments. */
export interface IpvsDest {
  address: string;
  port: number;
  forwarding: IpvsForwarding;
  weight: number;
  /** `-x` / `-y` connection thresholds; 0 = none. */
  upperThreshold: number;
  lowerThreshold: number;
}

export interface IpvsServiceState extends IpvsService {
  dests: IpvsDest[];
}

export type IpvsTable = IpvsServiceState[];

/** One `ipvsadm -R` (restore) line. */
export type IpvsOp =
  | { op: 'add-service'; service: IpvsService }
  | { op: 'edit-service'; service: IpvsService }
  | { op: 'delete-service'; service: IpvsService }
  | { op: 'add-dest'; service: IpvsService; dest: IpvsDest }
  | { op: 'edit-dest'; service: IpvsService; dest: IpvsDest }
  | { op: 'delete-dest'; service: IpvsService; dest: IpvsDest };

/** Identity of a service in the kernel: fwmark, or protocol + VIP + port. */
export function serviceKey(s: Pick<IpvsService, 'protocol' | 'address' | 'port' | 'fwmark' | 'family'>): string {
  // The kernel keys fwmark services by (family, mark): `-f 1` and `-f 1 -6` are two services.
  return s.fwmark > 0 ? `fwmark:${s.fwmark}${s.family === 6 ? ':6' : ''}` : `${s.protocol}:${s.address}:${s.port}`;
}

/** serviceKey(a) === serviceKey(b), told by the fields without building either key (a hot loop's check). */
export function sameServiceKey(a: Pick<IpvsService, 'protocol' | 'address' | 'port' | 'fwmark' | 'family'>, b: typeof a): boolean {
  if (a.fwmark > 0 || b.fwmark > 0) return a.fwmark === b.fwmark && (a.family === 6) === (b.family === 6);
  return a.protocol === b.protocol && a.address === b.address && a.port === b.port;
}

/** Identity of a destination inside its service. */
export function destKey(d: Pick<IpvsDest, 'address' | 'port'>): string {
  return `${d.address}:${d.port}`;
}

/**
 * Identity of one real server of one service: `service|address:port`. `service` is whatever
 * names the service where the key is used: its name in the config (health state) or its
 * serviceKey (kernel state: active connections, draining, the blast-radius guard).
 */
export function realServerKey(service: string, d: Pick<IpvsDest, 'address' | 'port'>): string {
  return `${service}|${destKey(d)}`;
}

/** True when `-E` would change nothing. */
export function sameServiceAttrs(a: IpvsService, b: IpvsService): boolean {
  return (
    a.scheduler === b.scheduler &&
    a.flags.join(',') === b.flags.join(',') &&
    a.onePacket === b.onePacket &&
    (a.persistence?.timeoutS ?? null) === (b.persistence?.timeoutS ?? null) &&
    (a.persistence?.netmask ?? null) === (b.persistence?.netmask ?? null)
  );
}

/** True when `-e` would change nothing. */
export function sameDestAttrs(a: IpvsDest, b: IpvsDest): boolean {
  return a.forwarding === b.forwarding && a.weight === b.weight && a.upperThreshold === b.upperThreshold && a.lowerThreshold === b.lowerThreshold;
}
