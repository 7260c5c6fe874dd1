import * as z from 'zod';
import { IpAddress, Ipv6 } from '../util/ip.ts';
import { BfdSession } from './bfd.ts';
import { InterfaceName, Name, SiteName } from './names.ts';
import { RolloutPolicy } from './rollout.ts';
import { Service } from './service.ts';
import { ConnectionSync, SyncGroup, VrrpInstance, VrrpScript } from './vrrp.ts';

export const Node = z.strictObject({
  name: Name,
  role: z.enum(['director', 'realserver']),
  /** IPv4 or IPv6: the node's primary address (its VRRP source and BFD end unless an instance says otherwise). */
  address: IpAddress,
  /**
   * Dual stack: the node's IPv6 address when `address` is IPv4. IPv6 VRRP instances source from it
   * (unless a member says `sourceAddress`), and an IPv6 service reaches a real-server node here.
   */
  address6: Ipv6.optional(),
  /** The interface that carries `address`; VRRP and GARP use it unless an instance says otherwise. */
  interface: InterfaceName.optional(),
  labels: z.record(z.string(), z.string()).optional(),
});
export type Node = z.infer<typeof Node>;

/** The site's public status page (`/status/{site}`); without it, or with `public: false`, the page needs a viewer token. */
export const StatusPage = z.strictObject({
  public: z.boolean().optional(),
  /** The page's heading; the site's name when absent. */
  title: z.string().min(1).max(120).optional(),
  /** Leave every address (VIPs, real servers, node addresses) out of the page, its JSON, badges and feed. */
  hideAddresses: z.boolean().optional(),
});
export type StatusPage = z.infer<typeof StatusPage>;

const SiteSpec = z.strictObject({
  nodes: z.array(Node).min(1),
  vrrp: z.array(VrrpInstance).optional(),
  vrrpScripts: z.array(VrrpScript).optional(),
  syncGroups: z.array(SyncGroup).optional(),
  services: z.array(Service).optional(),
  connectionSync: ConnectionSync.optional(),
  /** BFD sessions (keepalived bfd_instance). */
  bfd: z.array(BfdSession).optional(),
  /**
   * Default true: a VRRP instance of exactly two directors gets a BFD session between them when
   * spec.bfd has none, so a crashed master is detected in tens of milliseconds with 1 s adverts.
   */
  bfdDefault: z.boolean().optional(),
  /** Guard (docs/architecture.md, "Blast radius"): allow a revision that removes most services or real servers. */
  allowMassDelete: z.boolean().optional(),
  /** Staged rollout of new revisions (shared/site/rollout.ts); on by default for sites with VRRP pairs. */
  rollout: RolloutPolicy.optional(),
  statusPage: StatusPage.optional(),
});
type SiteSpec = z.infer<typeof SiteSpec>;

export const Site = z.strictObject({
  apiVersion: z.literal('lvsfleet/v1'),
  kind: z.literal('Site'),
  metadata: z.strictObject({
    name: SiteName,
    labels: z.record(z.string(), z.string()).optional(),
    /** Free-form notes; the keepalived importer keeps global_defs notification settings here. */
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: SiteSpec,
});
export type Site = z.infer<typeof Site>;
