import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { nulPath } from '#shared/util/nul.ts';
import { parseNodeTopic } from '#shared/wire/topics.ts';
import { MAX_STATUS_BYTES, NodeStatus } from '#shared/wire/status.ts';
import { MAX_EVENT_BYTES, NodeEvent } from '#shared/wire/events.ts';

/** Why an incoming message was not taken (counted per reason); `backlog`: too many wait to be stored. */
export const REJECT_REASONS = ['topic', 'oversize', 'json', 'schema', 'node_mismatch', 'unknown_node', 'backlog'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export type Incoming =
  | { kind: 'status'; nodeId: string; status: NodeStatus }
  | { kind: 'event'; nodeId: string; event: NodeEvent }
  | { kind: 'ignore' }
  /** nodeId: the node whose topic it came on, when the topic was one. */
  | { kind: 'reject'; reason: RejectReason; detail: string; nodeId?: string };

/**
 * Classifies one MQTT message on `lvsfleet/v1/nodes/{id}/status|events`. The node id comes from the
 * topic (the broker's ACL ties a topic to the node that logged in); a payload that names another
 * node is refused, so a node can never report for another.
 */
export function classify(topic: string, payload: Uint8Array): Incoming {
  const t = parseNodeTopic(topic);
  if (!t) return { kind: 'reject', reason: 'topic', detail: `not a node topic: ${topic}` };
  if (t.kind === 'desired') return { kind: 'ignore' };
  // An empty retained message clears the topic (MQTT 3.1.1 §3.3.1.3); nothing to record.
  if (payload.length === 0) return { kind: 'ignore' };
  const nodeId = t.nodeId;
  // Before any parsing: a node must not make the cloud decode, parse or store megabytes.
  const max = t.kind === 'status' ? MAX_STATUS_BYTES : MAX_EVENT_BYTES;
  if (payload.length > max) return { kind: 'reject', reason: 'oversize', nodeId, detail: `${topic}: ${payload.length} bytes, at most ${max}` };
  let json: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
    json = JSON.parse(text);
  } catch (err) {
    return { kind: 'reject', reason: 'json', nodeId, detail: `${topic}: ${(err as Error).message}` };
  }
  // PostgreSQL's text and jsonb cannot hold U+0000: stored, it would fail the batch it came in.
  const nul = text.includes('\\u0000') ? nulPath(json) : null;
  if (nul !== null) return { kind: 'reject', reason: 'schema', nodeId, detail: `${topic}: ${nul || '(root)'}: holds U+0000, which cannot be stored` };
  const parsed = t.kind === 'status' ? NodeStatus.safeParse(json) : NodeEvent.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { kind: 'reject', reason: 'schema', nodeId, detail: `${topic}: ${first?.path.join('.') || '(root)'}: ${first?.message}` };
  }
  // ISO 8601 has a year 0; PostgreSQL's timestamps, where an event's time is stored, do not.
  if (t.kind === 'events' && new Date((parsed.data as NodeEvent).at).getUTCFullYear() < 1)
    return { kind: 'reject', reason: 'schema', nodeId, detail: `${topic}: at: before year 1` };
  if (parsed.data.nodeId !== t.nodeId)
    return { kind: 'reject', reason: 'node_mismatch', nodeId, detail: `${topic}: payload nodeId ${JSON.stringify(parsed.data.nodeId)}` };
  return t.kind === 'status'
    ? { kind: 'status', nodeId: t.nodeId, status: parsed.data as NodeStatus }
    : { kind: 'event', nodeId: t.nodeId, event: parsed.data as NodeEvent };
}

/** The stored row after a status report, and the presence event to raise, if any. */
export function mergeStatus(
  previous: { online: boolean; appliedRevision: number | null; status: Record<string, unknown> } | undefined,
  incoming: NodeStatus,
): { online: boolean; appliedRevision: number | null; status: Record<string, unknown>; presence: 'node.online' | 'node.offline' | null } {
  const wasOnline = previous?.online ?? false;
  // The last will is only {nodeId, online:false}: keep what the node last said about itself.
  const isWill = !incoming.online && Object.keys(incoming).every((k) => k === 'nodeId' || k === 'online');
  const status = isWill ? { ...(previous?.status ?? {}), nodeId: incoming.nodeId, online: false } : (incoming as Record<string, unknown>);
  const appliedRevision = incoming.appliedRevision !== undefined ? incoming.appliedRevision : (previous?.appliedRevision ?? null);
  const presence = incoming.online === wasOnline ? null : incoming.online ? 'node.online' : 'node.offline';
  return { online: incoming.online, appliedRevision, status, presence };
}

/**
 * How long after another replica stored a node's report a report older than it is taken for a
 * lagging replica's copy and dropped. Past it, an older report is taken as it comes: an agent
 * whose clock stepped back loses at most this much of its reports.
 */
export const REPLICA_LAG_MS = 30_000;

/** What ingest stored last for a node: its report time (`at`, absent on a last will), presence, and when it was stored. */
export interface StoredReport {
  at?: string;
  online: boolean;
  storedAt: number;
}

/**
 * Whether a status report is one another replica took already, or older than one it took
 * (docs/architecture.md, "Layers": every replica's ingest receives every message, each in the
 * broker's order, but one may run behind another). Such a report must change nothing: written,
 * it would put a node back to an older state and raise its presence again. A report carries the
 * agent's `at`; a last will has none, so it is placed by the report before it in this replica's
 * own stream (`streamAt`). Pure.
 */
export function isStaleReport(stored: StoredReport | undefined, incoming: NodeStatus, streamAt: string | undefined, now: number): boolean {
  if (!stored?.at || now - stored.storedAt > REPLICA_LAG_MS) return false;
  const storedAt = Date.parse(stored.at);
  if (incoming.at === undefined) return streamAt !== undefined && Date.parse(streamAt) < storedAt;
  const at = Date.parse(incoming.at);
  // Equal times: the same report again, or the last will that followed it (stored offline with the report's time).
  return at < storedAt || (at === storedAt && incoming.online && !stored.online);
}

/** A node's `node_status` row as ingest reads and writes it. */
export interface StoredStatusRow {
  online: boolean;
  appliedRevision: number | null;
  status: Record<string, unknown>;
  updatedAt: Date;
}

/**
 * What one status report does to its node's stored row (which exists: ingest creates it before
 * reading it): nothing, when it is a replica's stale copy (`isStaleReport`) or a last will for a
 * node stored offline already (the retained will a replica gets when it subscribes: written, it
 * would move "offline since" to that replica's start); else the row to write and the presence
 * event to raise, if any. Pure.
 */
export function statusWrite(
  prev: StoredStatusRow,
  incoming: NodeStatus,
  streamAt: string | undefined,
  now: Date,
): { row: StoredStatusRow; presence: 'node.online' | 'node.offline' | null } | null {
  const stored = { at: (prev.status as { at?: string }).at, online: prev.online, storedAt: prev.updatedAt.getTime() };
  if (isStaleReport(stored, incoming, streamAt, now.getTime())) return null;
  const next = mergeStatus(prev, incoming);
  if (!prev.online && !next.online && isDeepStrictEqual(prev.status, next.status)) return null;
  return { row: { online: next.online, appliedRevision: next.appliedRevision, status: next.status, updatedAt: now }, presence: next.presence };
}

/**
 * The key that makes a node's event the same event in every replica's ingest: a digest of the
 * message as the node sent it (an agent's event carries its own time). Pure.
 */
export function eventKey(payload: Uint8Array): string {
  return `e:${createHash('sha256').update(payload).digest('base64url')}`;
}

/** The key of a `node.misbehaving` raised in the window that holds `now`: one per node and window, whichever replica raises it. */
export function misbehavingKey(now: number): string {
  return `m:${Math.floor(now / MISBEHAVING_EVERY_MS)}`;
}

/** At most one `node.misbehaving` per node in this window, so a flood of bad messages is one alert, not a webhook storm. */
export const MISBEHAVING_EVERY_MS = 10 * 60 * 1000;

/** Whether a refused message from a node raises `node.misbehaving` now, given when the last one was raised. Pure. */
export function raiseMisbehaving(lastRaisedAt: number | undefined, now: number): boolean {
  return lastRaisedAt === undefined || now - lastRaisedAt >= MISBEHAVING_EVERY_MS;
}
