import * as z from 'zod';
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
type NodeEventType = NodeEvent['type'];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * Alert conditions the cloud derives from the status model (`shared/status/conditions.ts`), with
 * how loud each is. Each is raised once it has held for a debounce and has a `….resolved` twin,
 * with the same severity, when it clears.
 */
export const CONDITION_SEVERITY = {
  'site.unreachable': 'critical',
  'site.split_brain': 'critical',
  'site.no_master': 'critical',
  'service.down': 'critical',
  'node.offline': 'warning',
  'node.stale_revision': 'warning',
  'apply.failed': 'warning',
  'realserver.down': 'warning',
} as const satisfies Record<string, Severity>;
export type ConditionType = keyof typeof CONDITION_SEVERITY;
export const CONDITION_TYPES = Object.keys(CONDITION_SEVERITY) as ConditionType[];

/** A staged rollout's progress (cloud/src/rollout/): started, each stage released, then completed, rolled back or aborted. */
const ROLLOUT_EVENT_TYPES = ['rollout.started', 'rollout.stage', 'rollout.completed', 'rollout.rolled_back', 'rollout.aborted'] as const;
export type RolloutEventType = (typeof ROLLOUT_EVENT_TYPES)[number];

/**
 * Events only the cloud raises: the conditions and their resolutions, presence, a webhook's test
 * event, and what it saw a node do (`node.misbehaving` when ingest refused a node's message,
 * `node.reenrolled` when a node's credentials were replaced), and the life of an operational
 * override (`override.created` is a warning: someone changed what the site serves).
 */
const CLOUD_EVENT_TYPES = [
  ...CONDITION_TYPES,
  ...CONDITION_TYPES.map((t) => `${t}.resolved` as const),
  'node.online',
  'webhook.test',
  'node.misbehaving',
  'node.reenrolled',
  ...ROLLOUT_EVENT_TYPES,
  // Operational overrides (drain, maintenance, failover, disable): made, ended on time, or cancelled.
  'override.created',
  'override.expired',
  'override.cancelled',
] as const;

/** Cloud events that ask a person to look (Slack marks them); the rest inform or are conditions. */
const CLOUD_EVENT_SEVERITY: Record<string, Severity> = {
  'node.misbehaving': 'warning',
  'node.reenrolled': 'warning',
  // A revision failed somewhere and was taken back, or someone stopped one: a person should know.
  'rollout.rolled_back': 'warning',
  'rollout.aborted': 'warning',
  // Someone took a part of the site out of service for a while.
  'override.created': 'warning',
};
export const WARNING_EVENT_TYPES: ReadonlySet<string> = new Set(Object.keys(CLOUD_EVENT_SEVERITY));

/** What agents report that is not a condition: how loud it is. Normal operation is `info`. */
const NODE_EVENT_SEVERITY: Record<NodeEventType, Severity> = {
  'vrrp.transition': 'info',
  'realserver.down': 'warning',
  'realserver.up': 'info',
  'service.quorum_lost': 'critical',
  'service.quorum_restored': 'info',
  'apply.succeeded': 'info',
  'apply.failed': 'warning',
  'config.rejected': 'warning',
  'realserver.drift': 'warning',
  'agent.helper_restarted': 'warning',
  'agent.degraded': 'warning',
  'bfd.transition': 'info',
};

/** Every event type a webhook can ask for: the agents' (the table above is exhaustive over them) and the cloud's, each once. */
export const EVENT_TYPES: readonly string[] = [...new Set([...Object.keys(NODE_EVENT_SEVERITY), ...CLOUD_EVENT_TYPES])];

/** The severity of an event type; a `….resolved` event is as loud as what it resolves, so the subscribers that got one get the other. */
export function severityOf(type: string): Severity {
  const base = type.endsWith('.resolved') ? type.slice(0, -'.resolved'.length) : type;
  if (base in CONDITION_SEVERITY) return CONDITION_SEVERITY[base as ConditionType];
  if (base in NODE_EVENT_SEVERITY) return NODE_EVENT_SEVERITY[base as NodeEventType];
  if (base in CLOUD_EVENT_SEVERITY) return CLOUD_EVENT_SEVERITY[base];
  return 'info';
}

export function severityAtLeast(s: Severity, min: Severity): boolean {
  return SEVERITIES.indexOf(s) >= SEVERITIES.indexOf(min);
}
