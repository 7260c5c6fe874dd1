import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import mqtt from 'mqtt';
import type { Db } from '../db/client.ts';
import { events, nodes } from '../db/schema.ts';
import { parseNodeTopic, topics } from '#shared/wire/topics.ts';
import { classify, misbehavingKey, raiseMisbehaving, REJECT_REASONS, type RejectReason } from './decide.ts';
import { KeyedQueue } from './keyed-queue.ts';
import { recordReport } from './record.ts';

/**
 * Nodes whose messages are handled at once. Each holds a database connection for its
 * transaction: three of the server's five PostgreSQL connections, the rest left to the API and the
 * publisher. PGlite runs one transaction at a time whatever this is.
 */
const INGEST_CONCURRENCY = 3;

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
 * A node's messages are handled one at a time, in arrival order, so its reports never race; those
 * of up to INGEST_CONCURRENCY different nodes at once, so that a large fleet's heartbeats (10,000
 * nodes every 15 s: 667 a second) do not queue behind one another's database round trips.
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
}): Promise<Ingest> {
  const { db } = opts;
  const log = opts.log ?? (() => {});
  const clock = opts.now ?? (() => new Date());
  const counts = { accepted: 0, rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number> };
  const siteOf = new Map<string, string>();
  const misbehavingAt = new Map<string, number>();
  /** Per node, the `at` of the last report in this replica's own stream: where a last will (which has none) falls. */
  const streamAt = new Map<string, string>();

  async function siteIdOf(nodeId: string): Promise<string | null> {
    const known = siteOf.get(nodeId);
    if (known) return known;
    const [row] = await db.select({ siteId: nodes.siteId }).from(nodes).where(eq(nodes.id, nodeId)).limit(1);
    if (row) siteOf.set(nodeId, row.siteId);
    return row?.siteId ?? null;
  }

  function reject(reason: RejectReason, detail: string): void {
    counts.rejected[reason]++;
    opts.onReject?.(reason);
    log(`ingest: refused (${reason}) ${detail}`);
  }

  /** A known node sent something refused: `node.misbehaving` (warning), at most once per node per window. */
  async function misbehaving(nodeId: string, reason: RejectReason, detail: string): Promise<void> {
    const siteId = await siteIdOf(nodeId);
    const now = clock();
    if (!siteId || !raiseMisbehaving(misbehavingAt.get(nodeId), now.getTime())) return;
    misbehavingAt.set(nodeId, now.getTime());
    await db
      .insert(events)
      .values({ siteId, nodeId, type: 'node.misbehaving', data: { reason, detail: detail.slice(0, 500) }, at: now, dedupeKey: misbehavingKey(now.getTime()) })
      .onConflictDoNothing();
  }

  async function handle(topic: string, payload: Buffer): Promise<void> {
    const msg = classify(topic, payload);
    if (msg.kind === 'ignore') return;
    if (msg.kind === 'reject') {
      reject(msg.reason, msg.detail);
      if (msg.nodeId) await misbehaving(msg.nodeId, msg.reason, msg.detail);
      return;
    }
    const siteId = await siteIdOf(msg.nodeId);
    if (!siteId) return reject('unknown_node', `${topic}: no node ${msg.nodeId}`);
    const follows = streamAt.get(msg.nodeId);
    if (msg.kind === 'status' && msg.status.at) streamAt.set(msg.nodeId, msg.status.at);
    await recordReport(db, siteId, msg, clock(), payload, follows);
    counts.accepted++;
  }

  const queue = new KeyedQueue(INGEST_CONCURRENCY, (err) => log(`ingest: ${err instanceof Error ? err.message : String(err)}`));
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
  client.on('message', (topic, payload) => {
    // Keyed by the node the topic names (a topic that names none is refused on its own key).
    void queue.push(parseNodeTopic(topic)?.nodeId ?? topic, () =>
      handle(topic, payload).catch((err: Error) => {
        throw new Error(`${topic}: ${err.message}`);
      }),
    );
  });

  return {
    ready,
    stats: () => ({ accepted: counts.accepted, rejected: { ...counts.rejected } }),
    async close() {
      await client.endAsync(true).catch(() => {});
      await queue.idle();
    },
  };
}
