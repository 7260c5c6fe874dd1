import { randomBytes } from 'node:crypto';
import { inArray } from 'drizzle-orm';
import mqtt from 'mqtt';
import type { Db } from '../db/client.ts';
import { events, nodes } from '../db/schema.ts';
import { topics } from '#shared/wire/topics.ts';
import { takeBatch } from './batch.ts';
import { classify, misbehavingKey, raiseMisbehaving, REJECT_REASONS, type Incoming, type RejectReason } from './decide.ts';
import { recordReports, type Report } from './record.ts';

/**
 * One batch's bounds. Its rows go to each statement as one JSON parameter, so its reports are held
 * twice while it is stored (parsed, and as that text), and one slow batch delays the next.
 */
const BATCH_MAX_REPORTS = 500;
const BATCH_MAX_BYTES = 8 * 1024 * 1024;
/**
 * Messages waiting for a batch, at most: past it (the database away or far behind) new ones are
 * refused as `backlog` and counted. Agents republish their status every 15 s, so what is refused
 * comes again; held, it would grow the process without bound.
 */
const MAX_PENDING = 50_000;
const MAX_PENDING_BYTES = 256 * 1024 * 1024;

/** A message waiting for its batch: taken, or refused from a known topic (its `node.misbehaving` keeps the node's order). */
type Pending =
  | { topic: string; nodeId: string; msg: Extract<Incoming, { kind: 'status' | 'event' }>; payload: Buffer }
  | { topic: string; nodeId: string; refused: { reason: RejectReason; detail: string }; payload: Buffer };

export interface Ingest {
  /** Resolves once the first subscription is acknowledged (tests and start-up logs). */
  ready: Promise<void>;
  /** Messages taken and refused (by reason) since start. */
  stats(): { accepted: number; rejected: Record<RejectReason, number> };
  close(): Promise<void>;
}

/**
 * Status ingest (docs/architecture.md, "Status and events"): subscribes to every node's status and
 * events, keeps the latest status per node in `node_status` and the event history in `events`,
 * and raises `node.online` / `node.offline` when presence changes (the last will included).
 * Messages are stored in batches, one at a time: each batch takes what arrived while the last was
 * stored, at most one message per node (`takeBatch`), so a node's reports are stored in arrival
 * order and never race, and a large fleet's heartbeats (10,000 nodes every 15 s: 667 a second)
 * cost a few statements per batch instead of a transaction per report.
 * Every replica on one PostgreSQL runs ingest and receives every message: a node's event is
 * stored once (its `dedupe_key`), and a report another replica already took, or older than one
 * it took, changes nothing (`isStaleReport`), so presence is raised once.
 */
export async function startIngest(opts: {
  db: Db;
  mqttUrl: string;
  username?: string;
  password?: string;
  log?: (line: string) => void;
  /** Told of every refused message (the server counts them in `lvsfleet_ingest_rejected_total`). */
  onReject?: (reason: RejectReason) => void;
  now?: () => Date;
  /** Messages that may wait to be stored before new ones are refused as `backlog` (default MAX_PENDING). */
  maxPending?: number;
}): Promise<Ingest> {
  const { db } = opts;
  const log = opts.log ?? (() => {});
  const clock = opts.now ?? (() => new Date());
  const counts = { accepted: 0, rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number> };
  const siteOf = new Map<string, string>();
  const misbehavingAt = new Map<string, number>();
  /** Per node, the `at` of the last report in this replica's own stream: where a last will (which has none) falls. */
  const streamAtOf = new Map<string, string>();

  /** The sites of these nodes, from memory or in one query; a node that is not known has none. */
  async function sitesOf(nodeIds: string[]): Promise<Map<string, string>> {
    const unknown = [...new Set(nodeIds.filter((id) => !siteOf.has(id)))];
    if (unknown.length) {
      const rows = await db.select({ id: nodes.id, siteId: nodes.siteId }).from(nodes).where(inArray(nodes.id, unknown));
      for (const r of rows) siteOf.set(r.id, r.siteId);
    }
    return siteOf;
  }

  function reject(reason: RejectReason, detail: string): void {
    counts.rejected[reason]++;
    opts.onReject?.(reason);
    log(`ingest: refused (${reason}) ${detail}`);
  }

  /** A known node sent something refused: `node.misbehaving` (warning), at most once per node per window. */
  async function misbehaving(nodeId: string, reason: RejectReason, detail: string): Promise<void> {
    const siteId = (await sitesOf([nodeId])).get(nodeId);
    const now = clock();
    if (!siteId || !raiseMisbehaving(misbehavingAt.get(nodeId), now.getTime())) return;
    misbehavingAt.set(nodeId, now.getTime());
    await db
      .insert(events)
      .values({ siteId, nodeId, type: 'node.misbehaving', data: { reason, detail: detail.slice(0, 500) }, at: now, dedupeKey: misbehavingKey(now.getTime()) })
      .onConflictDoNothing();
  }

  async function store(batch: Pending[]): Promise<void> {
    const sites = await sitesOf(batch.map((m) => m.nodeId));
    const reports: Report[] = [];
    const refused = [];
    for (const m of batch) {
      if ('refused' in m) {
        refused.push({ nodeId: m.nodeId, ...m.refused });
        continue;
      }
      const { topic, msg, payload } = m;
      const siteId = sites.get(msg.nodeId);
      if (!siteId) {
        reject('unknown_node', `${topic}: no node ${msg.nodeId}`);
        continue;
      }
      const streamAt = streamAtOf.get(msg.nodeId);
      if (msg.kind === 'status' && msg.status.at) streamAtOf.set(msg.nodeId, msg.status.at);
      reports.push({ siteId, msg, payload, streamAt });
    }
    const now = clock();
    try {
      await recordReports(db, reports, now);
      counts.accepted += reports.length;
    } catch (err) {
      // One report the database refuses must not take the others of its batch with it: each alone.
      log(`ingest: a batch of ${reports.length} not stored (${(err as Error).message}); storing each alone`);
      for (const r of reports)
        await recordReports(db, [r], now).then(
          () => counts.accepted++,
          (e: Error) => log(`ingest: ${r.msg.nodeId}'s ${r.msg.kind} not stored: ${e.message}`),
        );
    }
    for (const r of refused)
      await misbehaving(r.nodeId, r.reason, r.detail).catch((err: Error) => log(`ingest: node.misbehaving of ${r.nodeId}: ${err.message}`));
  }

  let backlogLoggedAt = 0;
  let backlogSinceLog = 0;
  let pending: Pending[] = [];
  let pendingBytes = 0;
  let storing: Promise<void> | null = null;
  let onIdle: (() => void)[] = [];
  function pump(): void {
    if (storing) return;
    if (!pending.length) {
      for (const f of onIdle) f();
      onIdle = [];
      return;
    }
    const { batch, rest } = takeBatch(pending, {
      key: (m) => m.nodeId,
      weight: (m) => m.payload.length,
      maxItems: BATCH_MAX_REPORTS,
      maxWeight: BATCH_MAX_BYTES,
    });
    pending = rest;
    for (const m of batch) pendingBytes -= m.payload.length;
    storing = store(batch)
      .catch((err: Error) => log(`ingest: a batch of ${batch.length} not stored: ${err.message}`))
      .finally(() => {
        storing = null;
        pump();
      });
  }

  function take(topic: string, payload: Buffer): void {
    const msg = classify(topic, payload);
    if (msg.kind === 'ignore') return;
    let item: Pending;
    if (msg.kind === 'reject') {
      reject(msg.reason, msg.detail);
      if (!msg.nodeId) return;
      // Held as a stub, without its bytes, so that its `node.misbehaving` keeps the node's order.
      item = { topic, nodeId: msg.nodeId, refused: { reason: msg.reason, detail: msg.detail }, payload: Buffer.alloc(0) };
    } else item = { topic, nodeId: msg.nodeId, msg, payload };
    if (pending.length >= (opts.maxPending ?? MAX_PENDING) || pendingBytes + item.payload.length > MAX_PENDING_BYTES) {
      if ('refused' in item) return;
      // Counted each, logged at most every 10 s: at a fleet's rate that is thousands a second.
      counts.rejected.backlog++;
      opts.onReject?.('backlog');
      backlogSinceLog++;
      if (Date.now() - backlogLoggedAt >= 10_000) {
        log(`ingest: refused (backlog) ${backlogSinceLog} message(s), the last ${topic}: ${pending.length} messages (${pendingBytes} bytes) wait to be stored`);
        [backlogLoggedAt, backlogSinceLog] = [Date.now(), 0];
      }
      return;
    }
    pending.push(item);
    pendingBytes += item.payload.length;
    pump();
  }

  const client = mqtt.connect(opts.mqttUrl, {
    clientId: `lvsfleet-ingest-${randomBytes(4).toString('hex')}`,
    username: opts.username,
    password: opts.password,
    reconnectPeriod: 1000,
    connectTimeout: 5_000,
    clean: true,
  });
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => (markReady = r));
  client.on('connect', () => {
    client.subscribe([topics.allStatus, topics.allEvents], { qos: 1 }, (err, granted) => {
      const refused = granted?.filter((g) => g.qos === 128) ?? [];
      if (err || refused.length) log(`ingest: subscribe refused: ${err?.message ?? refused.map((g) => g.topic).join(', ')}`);
      else {
        log(`ingest: subscribed on ${opts.mqttUrl}`);
        markReady();
      }
    });
  });
  client.on('error', (err) => log(`ingest: ${err.message}`));
  client.on('message', take);

  return {
    ready,
    stats: () => ({ accepted: counts.accepted, rejected: { ...counts.rejected } }),
    async close() {
      await client.endAsync(true).catch(() => {});
      if (storing || pending.length) await new Promise<void>((resolve) => onIdle.push(resolve));
    },
  };
}
