import { z } from 'zod';
import { BfdState, HelperState, VrrpState } from './status.ts';

/** Events an agent publishes on `.../events` (QoS 1) and the cloud's own (docs/architecture.md, "Status and events"). */
const base = { nodeId: z.string().min(1).max(128), at: z.string().datetime() };
/** An event is one small fact: the bytes one may take on the wire (ingest refuses more). */
export const MAX_EVENT_BYTES = 16 * 1024;
const Name = z.string().max(128);
/** Free text (an error with a command's stderr, a check's detail). */
const Text = z.string().max(4096);

export const NodeEvent = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('vrrp.transition'), data: z.object({ instance: Name, from: VrrpState, to: VrrpState, reason: Text }) }),
  /** A BFD session changed state (`diag`: RFC 5880 §4.1 diagnostic code, `reason` its text and why). */
  z.object({
    ...base,
    type: z.literal('bfd.transition'),
    data: z.object({ session: Name, peer: z.string().max(64), from: BfdState, to: BfdState, diag: z.number().int().min(0).max(31), reason: Text }),
  }),
  z.object({
    ...base,
    type: z.enum(['realserver.down', 'realserver.up']),
    data: z.object({ service: Name, address: z.string().max(64), port: z.number().int(), check: Name, detail: Text }),
  }),
  z.object({
    ...base,
    type: z.enum(['service.quorum_lost', 'service.quorum_restored']),
    data: z.object({ service: Name, weight: z.number().int(), quorum: z.number().int() }),
  }),
  z.object({ ...base, type: z.literal('apply.succeeded'), data: z.object({ revision: z.number().int() }) }),
  z.object({ ...base, type: z.literal('apply.failed'), data: z.object({ revision: z.number().int(), error: Text }) }),
  z.object({
    ...base,
    type: z.literal('config.rejected'),
    data: z.object({ why: z.enum(['signature', 'replay', 'schema', 'node', 'key']), detail: Text, revision: z.number().int().optional() }),
  }),
  z.object({ ...base, type: z.literal('realserver.drift'), data: z.object({ what: Text, repaired: z.boolean() }) }),
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

/**
 * Events only the cloud raises (cross-node facts, broker presence, and what it saw a node do:
 * `node.misbehaving` when ingest refused a node's message, `node.reenrolled` when a node's
 * credentials were replaced).
 */
export const CLOUD_EVENT_TYPES = [
  'node.offline',
  'node.online',
  'site.split_brain',
  'site.no_master',
  'node.stale_revision',
  'node.misbehaving',
  'node.reenrolled',
] as const;

/** Events that ask a person to look (Slack marks them); the rest inform. */
export const WARNING_EVENT_TYPES: ReadonlySet<string> = new Set(['node.misbehaving', 'node.reenrolled']);
