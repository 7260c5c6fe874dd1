import * as z from 'zod';
import { Duration } from '../util/duration.ts';
import { IpAddress, Ipv4 } from '../util/ip.ts';
import { HealthCheck } from './health-check.ts';
import { FORWARDING, SCHEDULER_FLAGS, SCHEDULERS } from './ipvs-words.ts';
import { Name } from './names.ts';

const Scheduler = z.enum(SCHEDULERS);
type Scheduler = z.infer<typeof Scheduler>;

const SchedulerFlag = z.enum(SCHEDULER_FLAGS);
const Forwarding = z.enum(FORWARDING);
type Forwarding = z.infer<typeof Forwarding>;

const Port = z.number().int().min(0).max(65535);

export const RealServer = z.strictObject({
  /** A realserver node with an agent; its address comes from the node. */
  node: Name.optional(),
  /**
   * A host without an agent, either family. Exactly one of node/address. Its family is the VIP's,
   * or the other one only with TUN forwarding (the kernel's rule for mixed-family destinations).
   */
  address: IpAddress.optional(),
  /**
   * Default: the service port. DR/TUN cannot map ports. In an fwmark service a NAT real server
   * without a port (port 0) receives each packet on its own destination port, as the kernel does
   * for a destination port of 0 (ip_vs_schedule / ip_vs_sched_persist).
   */
  port: Port.optional(),
  weight: z.number().int().min(0).max(65535).optional(),
  forwarding: Forwarding.optional(),
  healthCheck: HealthCheck.optional(),
  inhibitOnFailure: z.boolean().optional(),
  /** ipvsadm -x / -y connection thresholds. */
  upperThreshold: z.number().int().min(0).max(4294967295).optional(),
  lowerThreshold: z.number().int().min(0).max(4294967295).optional(),
  /** keepalived notify_up / notify_down. */
  notifyUp: z.string().min(1).optional(),
  notifyDown: z.string().min(1).optional(),
});
export type RealServer = z.infer<typeof RealServer>;

const Persistence = z.strictObject({
  /** persistence_timeout; default 360s (keepalived's value for a bare `persistence_timeout`). */
  timeout: Duration.optional(),
  /** persistence_granularity: netmask grouping clients, default 255.255.255.255 (IPv4 services only). */
  netmask: Ipv4.optional(),
});

const SorryServer = z.strictObject({
  address: IpAddress,
  port: Port.optional(),
  forwarding: Forwarding.optional(),
  /** sorry_server_inhibit: keep it at weight 0 instead of removing it. */
  inhibit: z.boolean().optional(),
});

export const Service = z.strictObject({
  name: Name,
  /** IPv4 or IPv6. */
  vip: IpAddress.optional(),
  /**
   * Dual stack: one IPv4 and one IPv6 VIP instead of `vip`, served alike (two IPVS services, one
   * per family, as keepalived needs two virtual_server blocks). Each real server is reached at its
   * address of the VIP's family: a node at `address` or `address6`, an `address` at the VIP of its
   * own family.
   */
  vips: z.array(IpAddress).min(1).max(2).optional(),
  /** For an fwmark service: the family of the packets it takes (ipvsadm -6); default 4. */
  family: z.union([z.literal(4), z.literal(6)], { error: 'expected address family 4 or 6' }).optional(),
  port: Port.optional(),
  protocol: z.enum(['tcp', 'udp', 'sctp']).optional(),
  /** Instead of vip/port: an fwmark service (ipvsadm -f). */
  fwmark: z.number().int().min(1).max(4294967295).optional(),
  scheduler: Scheduler.optional(),
  schedulerFlags: z.array(SchedulerFlag).optional(),
  forwarding: Forwarding.optional(),
  persistence: Persistence.optional(),
  /** One-packet scheduling (ipvsadm -o, keepalived ops) for UDP. */
  onePacket: z.boolean().optional(),
  sorryServer: SorryServer.optional(),
  /** Minimum total weight of healthy real servers (keepalived quorum). */
  quorum: z.number().int().min(1).optional(),
  hysteresis: z.number().int().min(0).optional(),
  quorumUp: z.string().min(1).optional(),
  quorumDown: z.string().min(1).optional(),
  /** alpha: real servers start down until their first check passes. */
  alpha: z.boolean().optional(),
  /** omega: run notify_down / quorum_down when the service is removed. */
  omega: z.boolean().optional(),
  inhibitOnFailure: z.boolean().optional(),
  healthCheck: HealthCheck.optional(),
  realServers: z.array(RealServer),
  /** Directors that serve it; default every director of the site. */
  directors: z.array(Name).min(1).optional(),
});
export type Service = z.infer<typeof Service>;
