import * as z from 'zod';
import { Duration } from '../util/duration.ts';
import { Cidr, IpAddress, isMulticast } from '../util/ip.ts';
import { TrackBfdRef } from './bfd.ts';
import { InterfaceName, Name } from './names.ts';

/** virtual_ipaddress entry: `192.168.1.150/32`, `2001:db8::10/64`, or with keepalived's `dev` and `label`. */
export const Vip = z.union(
  [
    Cidr,
    z.strictObject({
      address: Cidr,
      interface: InterfaceName.optional(),
      label: z.string().min(1).max(15).optional(),
    }),
  ],
  { error: 'expected a VIP like 192.168.1.150/32, 2001:db8::10/64 or { address, interface?, label? }' },
);
export type Vip = z.infer<typeof Vip>;

const VrrpMember = z.strictObject({
  node: Name,
  /** 1–254; 255 only for the address owner (RFC 5798 §5.2.4). */
  priority: z.number().int().min(1).max(255),
  /** Overrides the instance's (and the node's) interface on this node. */
  interface: InterfaceName.optional(),
  /**
   * keepalived mcast_src_ip / unicast_src_ip: this router's address on the instance's interface,
   * when that is not the node's address (an instance on a second NIC), of the instance's family.
   * Default: the node's address of that family (`address`, or `address6` for IPv6). For IPv6 it may
   * be the interface's link-local address, the source RFC 5798 §5.1.2.1 asks of adverts.
   */
  sourceAddress: IpAddress.optional(),
  /** keepalived `state`: the initial state; BACKUP with nopreempt is the usual pairing. */
  initialState: z.enum(['MASTER', 'BACKUP']).optional(),
});

const TrackInterface = z.strictObject({
  interface: InterfaceName,
  /** 0 (default): link down → FAULT; otherwise the priority changes by weight. */
  weight: z.number().int().min(-253).max(253).optional(),
});

const TrackScriptRef = z.strictObject({
  script: Name,
  /** Overrides the vrrp_script's weight for this instance. */
  weight: z.number().int().min(-253).max(253).optional(),
});

/** keepalived notify_master / notify_backup / notify_fault / notify_stop / notify. */
const Notify = z.strictObject({
  master: z.string().min(1).optional(),
  backup: z.string().min(1).optional(),
  fault: z.string().min(1).optional(),
  stop: z.string().min(1).optional(),
  /** keepalived `notify`: called with `INSTANCE name STATE priority`. */
  any: z.string().min(1).optional(),
});

/** Gratuitous ARP knobs: garp_master_delay, garp_master_repeat, garp_master_refresh(_repeat), garp_interval. */
const Garp = z.strictObject({
  masterDelay: Duration.optional(),
  masterRepeat: z.number().int().min(1).max(255).optional(),
  masterRefresh: Duration.optional(),
  masterRefreshRepeat: z.number().int().min(1).max(255).optional(),
  interval: Duration.optional(),
});

const VrrpAuth = z.strictObject({
  /** PASS (RFC 3768 simple text). AH is accepted by the schema and refused by validation. */
  type: z.enum(['PASS', 'AH']),
  /** YAML reads `1111` as a number and `0123` as 123: ask for quotes rather than guess. */
  password: z
    .string({
      error: (iss) => (iss.code !== 'invalid_type' ? undefined : iss.input === undefined ? 'password is required' : 'expected a string: quote it, like "1111"'),
    })
    .min(1),
});

export const VrrpInstance = z.strictObject({
  name: Name,
  vrid: z.number().int().min(1).max(255),
  version: z.union([z.literal(2), z.literal(3)], { error: 'expected VRRP version 2 or 3' }).optional(),
  /**
   * 4 or 6 (keepalived: the family of the first VIP, or `native_ipv6`). Default: the family of the
   * first VIP, else 4. Family 6 is VRRPv3 only (RFC 5798; RFC 3768 is IPv4 only).
   */
  family: z.union([z.literal(4), z.literal(6)], { error: 'expected address family 4 or 6' }).optional(),
  /** Default: each member node's interface. */
  interface: InterfaceName.optional(),
  advertInterval: Duration.optional(),
  auth: VrrpAuth.optional(),
  /** false = keepalived nopreempt. */
  preempt: z.boolean().optional(),
  preemptDelay: Duration.optional(),
  /**
   * May be empty for VRRPv2, as keepalived allows: the instance elects a master and runs its
   * notify scripts, which add the addresses themselves (cloud ENIs); adverts then carry none.
   */
  vips: z.array(Vip),
  /** virtual_ipaddress_excluded: moved with the instance but not in adverts; either family (keepalived allows both). */
  excludedVips: z.array(Vip).optional(),
  members: z.array(VrrpMember).min(1),
  /** unicast_peer: advertise to the other members' addresses instead of 224.0.0.18. */
  unicast: z.boolean().optional(),
  /** Extra unicast peers that are not lvsfleet nodes (for instance a keepalived being migrated). */
  unicastPeers: z.array(IpAddress).optional(),
  trackInterfaces: z.array(TrackInterface).optional(),
  trackScripts: z.array(TrackScriptRef).optional(),
  /** keepalived track_bfd: sessions of spec.bfd (or the default pair session) this instance tracks. */
  trackBfd: z.array(TrackBfdRef).optional(),
  notify: Notify.optional(),
  garp: Garp.optional(),
  /** keepalived use_vmac is not supported; dont_track_primary is. */
  dontTrackPrimary: z.boolean().optional(),
});
export type VrrpInstance = z.infer<typeof VrrpInstance>;

/** keepalived vrrp_script. */
export const VrrpScript = z.strictObject({
  name: Name,
  script: z.string().min(1),
  interval: Duration.optional(),
  timeout: Duration.optional(),
  weight: z.number().int().min(-253).max(253).optional(),
  rise: z.number().int().min(1).max(100).optional(),
  fall: z.number().int().min(1).max(100).optional(),
  user: z.string().min(1).optional(),
});
export type VrrpScript = z.infer<typeof VrrpScript>;

/** keepalived vrrp_sync_group: the instances change state together. */
export const SyncGroup = z.strictObject({
  name: Name,
  instances: z.array(Name).min(2),
  notify: Notify.optional(),
});
export type SyncGroup = z.infer<typeof SyncGroup>;

/** keepalived lvs_sync_daemon: IPVS connection sync following the VRRP state. */
export const ConnectionSync = z.strictObject({
  instance: Name,
  /** Default: the instance's interface. */
  interface: InterfaceName.optional(),
  syncId: z.number().int().min(0).max(255).optional(),
  /**
   * The sync daemon's multicast group (`ipvsadm --mcast-group`, keepalived's `group`). Default: the
   * kernel's 224.0.0.81, which needs IPv4 on the interface; an IPv6-only sync link names an IPv6
   * group such as ff02::81. Either family carries connections of both families (sync protocol v1).
   */
  group: IpAddress.refine(isMulticast, { message: 'expected a multicast group, like 224.0.0.81 or ff02::81' }).optional(),
  /**
   * The largest sync message in bytes, without its IP and UDP headers (`ipvsadm --sync-maxlen`,
   * keepalived's `maxlen`), given to both daemons (a backup must read what its peer's master sends).
   * Default: the kernel's, 1500 less the headers (1472 for an IPv4 group, 1452 for IPv6), about 40
   * connections to a message. Bounds are the kernel's (Linux 6.1, ip_vs_sync.c start_sync_thread):
   * it clamps a master's to 1..65535 − IP and UDP headers (65507 for an IPv4 group, 65487 for IPv6;
   * checked by validation) and a backup's to at least 1024. A message always holds at least one
   * connection: 8 bytes of header plus 36 for an IPv4 connection, 72 for IPv6 (more with TCP sequence
   * options or persistence data), so any value up to 44 means one connection a message.
   *
   * Why the default stays the kernel's (docs/architecture.md, connection sync): the kernel adds a
   * connection to its current message and sends that message only when the NEXT connection does
   * not fit, or once it is 2 s old. A small maxlen therefore sends each connection at the next sync
   * event (within ~20 ms at any real rate) instead of after up to 2–3 s, which matters only where
   * connections are few (a VIP move then finds the last seconds' connections unsynced); the very
   * last connection before a move still waits for the 2 s flush. It costs one datagram per sync
   * event on both directors: ~40× the datagrams at high rates, where full messages go out within
   * milliseconds anyway, and each tiny datagram costs the receiving backup's socket buffer a whole
   * skb (the better part of a kilobyte of truesize, against ~60 bytes a connection in a full
   * message), so it holds ~15–20× fewer connections and a burst overflows it, losing entries.
   */
  maxlen: z
    .number()
    .int()
    .min(1, 'expected a sync message size in bytes, at least 1')
    .max(65507, 'expected at most 65507 bytes (65535 less the IPv4 and UDP headers: the kernel cuts a larger maxlen to that)')
    .optional(),
});
export type ConnectionSync = z.infer<typeof ConnectionSync>;
