import { z } from 'zod';

export const VrrpState = z.enum(['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOP']);
export type VrrpState = z.infer<typeof VrrpState>;

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

/** Retained on `.../status`. The broker's last will is the short form `{nodeId, online: false}`. */
export const NodeStatus = z.object({
  nodeId: z.string().min(1),
  online: z.boolean(),
  at: z.string().datetime().optional(),
  site: z.string().optional(),
  node: z.string().optional(),
  agentVersion: z.string().optional(),
  appliedRevision: z.number().int().nullable().optional(),
  /** Revision received but not (yet) applied, e.g. after an apply error. */
  pendingRevision: z.number().int().nullable().optional(),
  vrrp: z
    .array(
      z.object({
        instance: z.string(),
        vrid: z.number().int(),
        state: VrrpState,
        priority: z.number().int(),
        effectivePriority: z.number().int(),
        since: z.string().datetime().optional(),
      }),
    )
    .optional(),
  services: z
    .array(
      z.object({
        name: z.string(),
        quorum: z.boolean(),
        realServers: z.array(
          z.object({
            address: z.string(),
            port: z.number().int(),
            healthy: z.boolean(),
            weight: z.number().int(),
            detail: z.string().optional(),
            /** False while no health check has run for it (`healthy` is then only the starting assumption); absent from older agents. */
            checked: z.boolean().optional(),
          }),
        ),
      }),
    )
    .optional(),
  ipvs: z.object({ ok: z.boolean(), error: z.string().optional() }).optional(),
  realServer: z.object({ ok: z.boolean(), drift: z.array(z.string()).optional(), warnings: z.array(z.string()).optional() }).optional(),
  errors: z.array(z.string()).optional(),
  /** Optional: documents from agents without supervision still parse. */
  health: AgentHealth.optional(),
});
export type NodeStatus = z.infer<typeof NodeStatus>;

/** The payload of the last will, set at connect. */
export function lastWill(nodeId: string): NodeStatus {
  return { nodeId, online: false };
}
