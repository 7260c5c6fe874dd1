import { z } from 'zod';
import { BfdState, HelperState, VrrpState } from './status.ts';

/** Events an agent publishes on `.../events` (QoS 1) and the cloud's own (docs/architecture.md, "Status and events"). */
const base = { nodeId: z.string().min(1), at: z.string().datetime() };

export const NodeEvent = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('vrrp.transition'), data: z.object({ instance: z.string(), from: VrrpState, to: VrrpState, reason: z.string() }) }),
  /** A BFD session changed state (`diag`: RFC 5880 §4.1 diagnostic code, `reason` its text and why). */
  z.object({
    ...base,
    type: z.literal('bfd.transition'),
    data: z.object({ session: z.string(), peer: z.string(), from: BfdState, to: BfdState, diag: z.number().int(), reason: z.string() }),
  }),
  z.object({
    ...base,
    type: z.enum(['realserver.down', 'realserver.up']),
    data: z.object({ service: z.string(), address: z.string(), port: z.number().int(), check: z.string(), detail: z.string() }),
  }),
  z.object({
    ...base,
    type: z.enum(['service.quorum_lost', 'service.quorum_restored']),
    data: z.object({ service: z.string(), weight: z.number().int(), quorum: z.number().int() }),
  }),
  z.object({ ...base, type: z.literal('apply.succeeded'), data: z.object({ revision: z.number().int() }) }),
  z.object({ ...base, type: z.literal('apply.failed'), data: z.object({ revision: z.number().int(), error: z.string() }) }),
  z.object({
    ...base,
    type: z.literal('config.rejected'),
    data: z.object({ why: z.enum(['signature', 'replay', 'schema', 'node', 'key']), detail: z.string(), revision: z.number().int().optional() }),
  }),
  z.object({ ...base, type: z.literal('realserver.drift'), data: z.object({ what: z.string(), repaired: z.boolean() }) }),
  /** A helper process died and was started again (`error`: why it ended; `delayMs`: back-off waited). */
  z.object({
    ...base,
    type: z.literal('agent.helper_restarted'),
    data: z.object({
      helper: z.string().min(1).max(64),
      restarts: z.number().int().min(1),
      error: z.string().max(500),
      delayMs: z.number().int().min(0),
      state: HelperState.optional(),
    }),
  }),
  /** Something a clean failover needs cannot run on this node (e.g. no way to send gratuitous ARP); said at start. */
  z.object({ ...base, type: z.literal('agent.degraded'), data: z.object({ what: z.string().min(1).max(64), detail: z.string().max(500) }) }),
]);
export type NodeEvent = z.infer<typeof NodeEvent>;
export type NodeEventType = NodeEvent['type'];

/** Events only the cloud raises (cross-node facts and broker presence). */
export const CLOUD_EVENT_TYPES = ['node.offline', 'node.online', 'site.split_brain', 'site.no_master', 'node.stale_revision'] as const;
