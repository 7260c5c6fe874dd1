import * as z from 'zod';
import { TrustReport } from './key-trust.ts';

/*
 * Bounds (docs/architecture.md, "Trust model"): a node's status is hostile input. The byte cap is
 * the real limit; the array and string caps keep what fits under it cheap to parse and store.
 * Sizing: a large director (1,000 services × 10 IPv6 real servers with long check details, 255
 * VRRP instances, 16 errors) makes a 1.45 MiB status; 4 MiB leaves it close to 3× headroom. The
 * services and their real servers are capped at MAX_STATUS_ENTRIES, far above what fits in the
 * byte cap: neither a spec nor IPVS caps them lower, and a lower cap refused the whole status of a
 * director with one larger service (1,024 real servers was the cap once), hiding it from the fleet.
 */
export const MAX_STATUS_BYTES = 4 * 1024 * 1024;
/** Errors a status lists. */
export const MAX_STATUS_ERRORS = 64;
/** Services in a status, and real servers per service: the byte cap binds first (a real server's entry is at least 60 bytes). */
const MAX_STATUS_ENTRIES = 65_536;
const Name = z.string().max(128);
/** Free text (an error with a command's stderr, a check's detail). */
const Text = z.string().max(4096);

export const VrrpState = z.enum(['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOP']);
export type VrrpState = z.infer<typeof VrrpState>;

/** RFC 5880 §4.1 session states. */
export const BfdState = z.enum(['AdminDown', 'Down', 'Init', 'Up']);
export type BfdState = z.infer<typeof BfdState>;

/** Supervision of one agent helper process (GARP helper, `ip -batch`, `ip monitor`, IPVS sync daemon). */
export const HelperState = z.enum(['running', 'restarting', 'failed', 'absent']);
const HelperHealth = z.object({
  name: z.string().min(1).max(64),
  state: HelperState,
  restarts: z.number().int().min(0),
  lastError: z.string().max(500).nullable(),
  since: z.string().datetime(),
});
type HelperHealth = z.infer<typeof HelperHealth>;

/**
 * The agent's own health: `degraded` when it keeps running but a failover would not be clean
 * (no way to send gratuitous ARP, a helper that keeps dying). `garpAvailable` null = not probed yet.
 */
export const AgentHealth = z.object({
  status: z.enum(['ok', 'degraded']),
  garpAvailable: z.boolean().nullable(),
  helpers: z.array(HelperHealth).max(32),
});
export type AgentHealth = z.infer<typeof AgentHealth>;

/**
 * One active override as the node runs it: `applied` (in force), `handing-over` (a director
 * override waiting for VRRP to move), `draining` (a drained real server still has active
 * connections here), `drained` (none left, or the drain timed out).
 */
const OverrideState = z.enum(['applied', 'handing-over', 'draining', 'drained']);

const OverrideStatus = z.object({
  id: z.string().max(64),
  kind: Name,
  until: z.string().datetime(),
  state: OverrideState,
  activeConnections: z.number().int().min(0).optional(),
});
export type OverrideStatus = z.infer<typeof OverrideStatus>;

/** Retained on `.../status`. The broker's last will is the short form `{nodeId, online: false}`. */
export const NodeStatus = z.object({
  nodeId: z.string().min(1).max(128),
  online: z.boolean(),
  at: z.string().datetime().optional(),
  site: Name.optional(),
  node: Name.optional(),
  agentVersion: z.string().max(64).optional(),
  appliedRevision: z.number().int().nullable().optional(),
  /** The signing keys the agent pinned: its acknowledgement of a key rotation. */
  trust: TrustReport.optional(),
  /** Revision received but not (yet) applied, e.g. after an apply error. */
  pendingRevision: z.number().int().nullable().optional(),
  vrrp: z
    .array(
      z.object({
        instance: Name,
        vrid: z.number().int(),
        state: VrrpState,
        priority: z.number().int(),
        effectivePriority: z.number().int(),
        since: z.string().datetime().optional(),
      }),
    )
    .max(1024)
    .optional(),
  /** BFD sessions (optional: documents from agents without BFD still parse). */
  bfd: z
    .array(z.object({ name: z.string(), peer: z.string(), state: BfdState, since: z.string().datetime().optional(), detectionTimeMs: z.number().optional() }))
    .optional(),
  services: z
    .array(
      z.object({
        name: Name,
        quorum: z.boolean(),
        realServers: z
          .array(
            z.object({
              address: z.string().max(64),
              port: z.number().int(),
              healthy: z.boolean(),
              weight: z.number().int(),
              detail: z.string().max(500).optional(),
              /** False while no health check has run for it (`healthy` is then only the starting assumption); absent from older agents. */
              checked: z.boolean().optional(),
              /** IPVS active connections on this director (what a drain waits for); absent from older agents. */
              activeConnections: z.number().int().min(0).optional(),
            }),
          )
          .max(MAX_STATUS_ENTRIES),
      }),
    )
    .max(MAX_STATUS_ENTRIES)
    .optional(),
  ipvs: z.object({ ok: z.boolean(), error: Text.optional() }).optional(),
  realServer: z.object({ ok: z.boolean(), drift: z.array(Text).max(64).optional(), warnings: z.array(Text).max(64).optional() }).optional(),
  errors: z.array(Text).max(MAX_STATUS_ERRORS).optional(),
  /** Optional: documents from agents without supervision still parse. */
  health: AgentHealth.optional(),
  /** The operational overrides this node has layered and is running (absent from older agents). */
  overrides: z.array(OverrideStatus).max(256).optional(),
});
export type NodeStatus = z.infer<typeof NodeStatus>;

/** The payload of the last will, set at connect. */
export function lastWill(nodeId: string): NodeStatus {
  return { nodeId, online: false };
}
