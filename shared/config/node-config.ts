import * as z from 'zod';
import { CanonicalIpAddress, CanonicalIpv6, Ipv4 } from '../util/ip.ts';
import { CHECK_TYPES, FORWARDING, SCHEDULER_FLAGS, SCHEDULERS } from '../site/ipvs-words.ts';

/**
 * What one node runs: the compiler's output, fully resolved (defaults applied, durations in ms,
 * addresses resolved). The agent validates it with this schema on intake; nothing in it needs
 * the rest of the site. Addresses only in their canonical form, as the compiler writes them: the
 * schema refuses another spelling instead of rewriting it, so it never changes what it parses.
 */
const Ms = z.number().int().min(0);
const Iface = z.string().min(1).max(15);

export const ResolvedVip = z.strictObject({
  address: CanonicalIpAddress,
  /** Up to 32 for IPv4, 128 for IPv6. */
  prefix: z.number().int().min(0).max(128),
  interface: Iface,
  label: z.string().max(15).nullable(),
});
export type ResolvedVip = z.infer<typeof ResolvedVip>;

const ResolvedNotify = z.strictObject({
  master: z.string().nullable(),
  backup: z.string().nullable(),
  fault: z.string().nullable(),
  stop: z.string().nullable(),
  any: z.string().nullable(),
});

export const ResolvedInstance = z.strictObject({
  name: z.string(),
  vrid: z.number().int().min(1).max(255),
  version: z.union([z.literal(2), z.literal(3)]),
  /**
   * 6 for an IPv6 instance (VRRPv3 over IPv6, RFC 5798 §5.1.2: ff02::12, hop limit 255, the
   * interface's link-local source); absent for IPv4, so every IPv4 config reads as before.
   */
  family: z.literal(6).optional(),
  interface: Iface,
  /**
   * This node's own address on `interface`, of the instance's family: the advert source and the
   * tie-break key. For IPv6 it is the member's sourceAddress or the node's IPv6 address; multicast
   * adverts still go out from the interface's link-local address (RFC 5798 §5.1.2.1).
   */
  sourceAddress: CanonicalIpAddress,
  advertIntervalMs: Ms,
  priority: z.number().int().min(1).max(255),
  initialState: z.enum(['MASTER', 'BACKUP']),
  auth: z.strictObject({ type: z.literal('PASS'), password: z.string().max(8) }).nullable(),
  preempt: z.boolean(),
  preemptDelayMs: Ms,
  vips: z.array(ResolvedVip),
  excludedVips: z.array(ResolvedVip),
  /** Other routers of the group: members (with their node) and extra unicast peers (node null). */
  peers: z.array(z.strictObject({ node: z.string().nullable(), address: CanonicalIpAddress, priority: z.number().int().nullable() })),
  unicast: z.boolean(),
  trackInterfaces: z.array(z.strictObject({ interface: Iface, weight: z.number().int() })),
  trackScripts: z.array(z.strictObject({ script: z.string(), weight: z.number().int() })),
  notify: ResolvedNotify,
  garp: z.strictObject({
    masterDelayMs: Ms,
    masterRepeat: z.number().int().min(1),
    masterRefreshMs: Ms,
    masterRefreshRepeat: z.number().int().min(1),
    intervalMs: Ms,
  }),
  dontTrackPrimary: z.boolean(),
  syncGroup: z.string().nullable(),
  /**
   * keepalived track_bfd, limited to sessions this node runs; weight 0: Down or AdminDown → FAULT.
   * The compiler always sets it; optional only so configs written before it existed still parse.
   */
  trackBfd: z.array(z.strictObject({ name: z.string(), weight: z.number().int() })).optional(),
  /**
   * The BFD session to this instance's one peer, when there is one: its Down while that peer is the
   * master we hear is a master-down at once, instead of after Master_Down_Interval. Optional as above.
   */
  peerBfd: z.string().nullable().optional(),
  /**
   * Set only by the agent's override layering (`shared/overrides/layer.ts`), never by the compiler:
   * the director is drained or in maintenance, so it hands MASTER over once its peer is ready and
   * stays BACKUP.
   */
  maintenance: z.boolean().optional(),
  /**
   * Set only by the override layering: a failover names this director the instance's MASTER, so a
   * lower-priority master it hears is taken over after Skew_Time rather than Master_Down_Interval.
   */
  failoverTarget: z.boolean().optional(),
});
export type ResolvedInstance = z.infer<typeof ResolvedInstance>;

export const ResolvedScript = z.strictObject({
  name: z.string(),
  command: z.string(),
  intervalMs: Ms,
  timeoutMs: Ms,
  weight: z.number().int(),
  rise: z.number().int().min(1),
  fall: z.number().int().min(1),
  user: z.string().nullable(),
});
export type ResolvedScript = z.infer<typeof ResolvedScript>;

/** A health check with every keepalived timing field resolved; type-specific fields in `params`. */
export const ResolvedCheck = z.strictObject({
  type: z.enum(CHECK_TYPES),
  intervalMs: Ms,
  timeoutMs: Ms,
  retries: z.number().int().min(0),
  retryDelayMs: Ms,
  /** keepalived warmup: the first check starts after a random delay in [0, warmupMs]. */
  warmupMs: Ms,
  /** Where the probe goes (connect_ip / connect_port, defaulting to the real server's). */
  address: CanonicalIpAddress,
  port: z.number().int().min(0).max(65535),
  bindTo: CanonicalIpAddress.nullable(),
  params: z.record(z.string(), z.unknown()),
});
export type ResolvedCheck = z.infer<typeof ResolvedCheck>;

const ResolvedRealServer = z.strictObject({
  /** The realserver node, when it runs an agent. */
  node: z.string().nullable(),
  address: CanonicalIpAddress,
  port: z.number().int().min(0).max(65535),
  weight: z.number().int().min(0).max(65535),
  forwarding: z.enum(FORWARDING),
  inhibitOnFailure: z.boolean(),
  upperThreshold: z.number().int().min(0),
  lowerThreshold: z.number().int().min(0),
  healthCheck: ResolvedCheck.nullable(),
  notifyUp: z.string().nullable(),
  notifyDown: z.string().nullable(),
});
type ResolvedRealServer = z.infer<typeof ResolvedRealServer>;

export const ResolvedService = z.strictObject({
  name: z.string(),
  protocol: z.enum(['tcp', 'udp', 'sctp']),
  /** null for an fwmark service. */
  vip: CanonicalIpAddress.nullable(),
  /**
   * 6 for an IPv6 service (its VIP, or the packets of an fwmark service: ipvsadm -6); absent for
   * IPv4. A dual-stack service compiles to two entries of one name, the IPv4 one first.
   */
  family: z.literal(6).optional(),
  port: z.number().int().min(0).max(65535),
  fwmark: z.number().int().min(0),
  scheduler: z.enum(SCHEDULERS),
  schedulerFlags: z.array(z.enum(SCHEDULER_FLAGS)),
  persistence: z.strictObject({ timeoutS: z.number().int().min(1), netmask: Ipv4 }).nullable(),
  onePacket: z.boolean(),
  sorryServer: z.strictObject({ address: CanonicalIpAddress, port: z.number().int(), forwarding: z.enum(FORWARDING), inhibit: z.boolean() }).nullable(),
  quorum: z.number().int().min(1),
  hysteresis: z.number().int().min(0),
  quorumUp: z.string().nullable(),
  quorumDown: z.string().nullable(),
  alpha: z.boolean(),
  omega: z.boolean(),
  realServers: z.array(ResolvedRealServer),
});
export type ResolvedService = z.infer<typeof ResolvedService>;

/**
 * What a real server sets up for one VIP (DR: lo + ARP sysctls; TUN: tunl0 + rp_filter; NAT: gateway
 * check). An IPv6 VIP goes on as /128 (hostPrefix), and needs no ARP sysctls: neighbour discovery
 * answers only for addresses of the interface asked (RFC 4861 §7.2.3).
 */
export const RealServerVip = z.strictObject({
  address: CanonicalIpAddress,
  forwarding: z.enum(FORWARDING),
  services: z.array(z.string()),
  /** NAT only: addresses the default route should go through (director VIPs on this subnet, else directors). */
  expectedGateways: z.array(CanonicalIpAddress),
});
export type RealServerVip = z.infer<typeof RealServerVip>;

/** One BFD session this node runs (keepalived bfd_instance), timers in ms. */
export const ResolvedBfd = z.strictObject({
  name: z.string(),
  /** This node's address: the sockets bind here (keepalived source_ip). */
  local: CanonicalIpAddress,
  /** keepalived neighbor_ip, and the node there when it is one of the site's. */
  peer: CanonicalIpAddress,
  peerNode: z.string().nullable(),
  minRxMs: z.number().int().min(1),
  minTxMs: z.number().int().min(1),
  multiplier: z.number().int().min(1).max(255),
});
export type ResolvedBfd = z.infer<typeof ResolvedBfd>;

export const NodeConfig = z.strictObject({
  apiVersion: z.literal('lvsfleet/v1'),
  kind: z.literal('NodeConfig'),
  site: z.string(),
  node: z.strictObject({
    name: z.string(),
    role: z.enum(['director', 'realserver']),
    address: CanonicalIpAddress,
    /** The node's IPv6 address when `address` is IPv4 (dual stack); absent otherwise. */
    address6: CanonicalIpv6.optional(),
    interface: Iface,
  }),
  vrrp: z.strictObject({
    instances: z.array(ResolvedInstance),
    scripts: z.array(ResolvedScript),
    syncGroups: z.array(z.strictObject({ name: z.string(), instances: z.array(z.string()), notify: ResolvedNotify })),
    connectionSync: z
      .strictObject({
        instance: z.string(),
        interface: Iface,
        syncId: z.number().int(),
        group: z.string().optional(),
        /** Both daemons' sync message size (bytes); absent: the kernel's default. */
        maxlen: z.number().int().min(1).max(65507).optional(),
      })
      .nullable(),
  }),
  /** BFD sessions. The compiler always sets it; optional only so configs written before it existed still parse. */
  bfd: z.array(ResolvedBfd).optional(),
  services: z.array(ResolvedService),
  /** Director sysctls its services need (net.ipv4.ip_forward=1 for NAT, send_redirects=0). */
  sysctls: z.record(z.string(), z.string()),
  realServer: z.strictObject({
    vips: z.array(RealServerVip),
    /**
     * Sysctls the real-server role needs (DR: arp_ignore=1/arp_announce=2 on all and lo; TUN: the same
     * on all and tunl0 plus rp_filter=0). The compiler always sets it ({} on directors); optional
     * only so configs written before it existed still parse.
     */
    sysctls: z.record(z.string(), z.string()).optional(),
  }),
  allowMassDelete: z.boolean(),
});
export type NodeConfig = z.infer<typeof NodeConfig>;
