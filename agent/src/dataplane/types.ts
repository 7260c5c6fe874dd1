import type { IpvsOp, IpvsService, IpvsTable } from '#shared/ipvs/model.ts';

/** An IPv4 or IPv6 address on an interface, as `ip -j addr` reports it. */
export interface HostAddress {
  ifname: string;
  address: string;
  prefix: number;
  /** `lo:lvs`-style label, or null (always null for IPv6: Linux keeps labels on IPv4 only). */
  label: string | null;
}

/**
 * The device that decapsulates IPVS TUN traffic. IPv4: ipip's fallback device tunl0. IPv6: the
 * role's own ip6ip6 device for the node's address (`local`) from any remote, which also takes
 * packets whose outer source is an address of this host (allow-localremote); the fallback
 * ip6tnl0 cannot (see realServerPlan).
 */
export type TunnelDevice = { ifname: 'tunl0' } | { ifname: 'lvs6tnl0'; local: string };

export interface HostLink {
  ifname: string;
  up: boolean;
}

/** A default route (IPv4 or IPv6). */
export interface HostRoute {
  gateway: string | null;
  dev: string;
}

/** What `ipvsadm -Sn` and /proc/net/ip_vs say, read in one go. */
export interface IpvsSnapshot {
  table: IpvsTable;
  /** Active connections per realServerKey(serviceKey, dest) (for draining). */
  activeConns: Map<string, number>;
}

/** The kernel's traffic counters of one IPVS service or real server (totals since it was added). */
export interface IpvsCounters {
  conns: number;
  inPackets: number;
  outPackets: number;
  inBytes: number;
  outBytes: number;
}

/** `ipvsadm -Ln --stats` per service, with its real servers. */
export type IpvsServiceStats = Pick<IpvsService, 'protocol' | 'address' | 'port' | 'fwmark'> &
  IpvsCounters & { dests: (IpvsCounters & { address: string; port: number })[] };

/**
 * Everything the agent does to a host, in one small interface (docs/architecture.md, "Pure core, thin shell"). The
 * Linux implementation runs ip and ipvsadm and opens /proc and /sys; the dry-run one prints; the memory one is the tests' kernel.
 */
export interface Dataplane {
  readonly kind: 'linux' | 'dry-run' | 'memory';
  listAddresses(): Promise<HostAddress[]>;
  addAddress(a: HostAddress): Promise<void>;
  deleteAddress(a: HostAddress): Promise<void>;
  listLinks(): Promise<HostLink[]>;
  /** Brings a tunnel device up, creating it (tunl0 when ipip has not made it yet; lvs6tnl0 as ip6ip6 for its local address). */
  ensureTunnel(device: TunnelDevice): Promise<void>;
  defaultRoutes(): Promise<HostRoute[]>;
  /** null when the key does not exist (e.g. conf.<ifname> of a missing interface). */
  readSysctl(key: string): Promise<string | null>;
  writeSysctl(key: string, value: string): Promise<void>;
  /** Throws AgentError IPVS_UNAVAILABLE on a host without ip_vs. */
  ipvsRead(): Promise<IpvsSnapshot>;
  /**
   * The kernel's traffic counters per service and real server; null on a host without IPVS
   * (no ip_vs, no ipvsadm), where there is nothing to count, which is not the same as zero.
   */
  ipvsStats(): Promise<IpvsServiceStats[] | null>;
  /** One `ipvsadm -R` batch, in order; never a flush. */
  ipvsApply(ops: IpvsOp[]): Promise<void>;
}
