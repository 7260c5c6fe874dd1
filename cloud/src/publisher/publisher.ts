import { sql } from 'drizzle-orm';
import { startSerialLoop } from '#shared/util/serial-loop.ts';
import type { Db } from '../db/client.ts';
import type { Signer } from '../keys/signing.ts';
import { createPublishLink } from '../mqtt/link.ts';
import { topics } from '#shared/wire/topics.ts';
import { backoffDelayMs } from '#shared/util/backoff.ts';
import { isNewer, versionOf, type DesiredClaims, type DocumentVersion } from '#shared/wire/desired.ts';
import { planDrain } from './plan.ts';
import type { Claim, SiteLeases } from './site-leases.ts';
import {
  lastPublished,
  latestPublishedRows,
  markFailed,
  markPublished,
  markSkipped,
  newestOpen,
  pendingForDueNodes,
  pruneSuperseded,
  type OutboxRow,
} from './outbox-store.ts';

/** A row an apply in this process handed over, with its claims' canonical JSON when the apply made it (signed as it is). */
type HandedRow = OutboxRow & { canonicalClaims?: string };

/** Documents signed at once before their publishes start (the next batch signs while they are in flight). */
const SIGN_BATCH = 250;

/** The site lease went with its connection in the middle of a drain. */
class LeaseLost extends Error {
  constructor() {
    super('site lease lost');
  }
}

export interface Publisher {
  /** Asks for a drain soon that reads the outbox (apply calls this after its transaction commits). */
  kick(): void;
  /**
   * Asks for a drain soon of `rows`, pending outbox rows an apply in this process just committed,
   * without reading the outbox for them. Losing them loses nothing: they are in the outbox, which
   * the next reading drain (a kick, the poll) publishes.
   */
  handoff(rows: readonly HandedRow[]): void;
  /** Publishes every node's newest published document again at the next drain (signed anew: the key set changed). */
  republish(): void;
  /** Runs one drain, reading the outbox, that starts after this call; answers how many documents reached the broker. */
  drain(): Promise<number>;
  close(): Promise<void>;
}

export interface PublisherOptions {
  db: Db;
  mqttUrl: string;
  username?: string;
  password?: string;
  signer: Signer;
  log?: (line: string) => void;
  /** Poll period for rows whose back-off ended (default 1000 ms). */
  pollMs?: number;
  /** Rows read per drain (default 5000). */
  batch?: number;
  /** PUBACKs outstanding at once on the publishing connection (default 1000). */
  concurrency?: number;
  /**
   * After every (re)connect, publish again each node's newest published document (default true):
   * an in-memory broker (the embedded aedes) forgets retained messages when it restarts.
   */
  republishOnConnect?: boolean;
  /**
   * Least time between two prunes of superseded rows (`pruneSuperseded`, default 60,000 ms), each
   * after a drain that published and of `pruneBatch` rows at most (default 5,000): off the path of
   * any document, which is published before. A prune that hit its limit lets the next drain prune.
   */
  pruneEveryMs?: number;
  pruneBatch?: number;
  /** VACUUM the outbox after a prune that deleted rows: for PGlite, which runs no autovacuum. */
  vacuumAfterPrune?: boolean;
  /**
   * Several replicas on one PostgreSQL: drain only the sites whose lease this replica holds
   * (./site-leases.ts). Without it the publisher assumes it is the only one on its database.
   */
  leases?: SiteLeases;
}

/**
 * Drains the outbox to `lvsfleet/v1/nodes/{nodeId}/desired` (retained, QoS 1, signed at publish).
 * A row is marked published only after the broker's PUBACK; a failure marks it failed and backs
 * it off (attempts, next_attempt_at, last_error) until a later drain publishes or skips it. Drains never overlap, so per node the order holds.
 * Run one publisher per database, or give each replica's publisher `leases`.
 */
export async function startPublisher(opts: PublisherOptions): Promise<Publisher> {
  const { db, signer } = opts;
  const log = opts.log ?? (() => {});
  const link = createPublishLink({ url: opts.mqttUrl, username: opts.username, password: opts.password, clientIdPrefix: 'lvsfleet-publisher', log });
  let republishDue = false;
  if (opts.republishOnConnect ?? true) link.onConnect(() => (republishDue = true));

  const window = opts.concurrency ?? 1000;
  /** Rows handed over since the last drain began. */
  let handed: HandedRow[] = [];
  /** Something asked for a drain that reads the outbox (a kick, a republish); a poll's drain always reads. */
  let readDue = true;
  const pruneEveryMs = opts.pruneEveryMs ?? 60_000;
  const pruneBatch = opts.pruneBatch ?? 5000;
  /** When superseded rows may next be pruned: the first time one period after the start, then after each prune. */
  let pruneAt = Date.now() + pruneEveryMs;

  /**
   * Signs `rows` a batch at a time and publishes each as soon as it is signed, with up to `window`
   * PUBACKs outstanding (QoS 1 pipelined on one connection, not one round trip per document).
   * Calls `done` on PUBACK and `failed` on any error; stops, leaving the rest open, when the
   * lease goes. Rows are one per node (planDrain), so their order among themselves is free.
   */
  async function send(rows: HandedRow[], claim: Claim | null, done: (row: OutboxRow) => void, failed: (row: OutboxRow, err: Error) => void): Promise<void> {
    const inflight = new Set<Promise<void>>();
    for (let i = 0; i < rows.length; i += SIGN_BATCH) {
      const batch = rows.slice(i, i + SIGN_BATCH);
      const signed = await Promise.allSettled(batch.map((row) => signer.sign(row.claims as DesiredClaims, row.canonicalClaims)));
      for (let k = 0; k < batch.length; k++) {
        const row = batch[k];
        const jws = signed[k];
        if (claim && !claim.valid()) {
          failed(row, new LeaseLost());
          continue;
        }
        if (jws.status === 'rejected') {
          failed(row, jws.reason as Error);
          continue;
        }
        while (inflight.size >= window) await Promise.race(inflight);
        const p: Promise<void> = link
          .publish(topics.desired(row.nodeId), jws.value, { retain: true })
          .then(
            () => done(row),
            (err: Error) => failed(row, err),
          )
          .finally(() => inflight.delete(p));
        inflight.add(p);
      }
    }
    await Promise.all(inflight);
  }

  /** Marks rows skipped: one statement per distinct reason. */
  async function skip(rows: { row: OutboxRow; reason: string }[]): Promise<void> {
    const byReason = new Map<string, number[]>();
    for (const s of rows) byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), s.row.id]);
    for (const [reason, ids] of byReason) await markSkipped(db, ids, reason);
  }

  /** Whether `rows` hold, for each of their nodes, its newest open version. */
  async function holdsNewest(rows: OutboxRow[]): Promise<boolean> {
    const inHand = new Map<string, DocumentVersion>();
    for (const r of rows) {
      const v = versionOf(r);
      const had = inHand.get(r.nodeId);
      if (!had || isNewer(v, had)) inHand.set(r.nodeId, v);
    }
    const newest = await newestOpen(db, [...inHand.keys()]);
    return [...newest].every(([node, v]) => !isNewer(v, inHand.get(node)!));
  }

  async function drainOnce(): Promise<number> {
    if (loop.closed) return 0;
    // Handed rows were committed before they were handed, so a drain that reads the outbox reads
    // them too; one that does not publishes them without the read-back (1,000 rows of claims).
    // Either way planDrain below orders them against what was published (floors read from the
    // outbox), so a late hand-off never publishes a node's older document after a newer one.
    const taken = handed;
    handed = [];
    const read = readDue || !taken.length;
    readDue = false;
    const batchSize = opts.batch ?? 5000;
    // Rows read are judged due on the database's clock (outbox-store.ts says why), and planned at
    // its time of the read; rows handed over are due at once, on this process's clock.
    const fromOutbox = read ? await pendingForDueNodes(db, batchSize) : { rows: taken, now: new Date() };
    const due = fromOutbox.rows;
    let now = fromOutbox.now;
    // A read that filled its batch left due rows behind: read again as soon as this drain is done
    // (if it moved any row on), not at the next poll (a 10,000-node site waited a poll for half).
    const more = read && due.length >= batchSize;
    // Connect even with nothing pending, so a restarted in-memory broker gets its documents back.
    const connected = await link.ensure();
    const republishing = connected && republishDue ? await latestPublishedRows(db) : [];
    // Rows read before the claim: the floors below are read after it, so they cover what the
    // lease's previous holder published and marked; what it published and did not mark (killed
    // in between) is caught by holdsNewest.
    const claim: Claim | null = opts.leases ? await opts.leases.claim(new Set([...due, ...republishing].map((r) => r.siteId))) : null;
    const mine = <R extends { siteId: string }>(rows: R[]) => (claim ? rows.filter((r) => claim.owned.has(r.siteId)) : rows);
    let pending = mine(due);
    // The rows in hand (handed over, or read before the claim) may not be a node's newest open
    // row: a lease's previous holder can have published a newer one and died before marking it
    // (the floors below still say older). Sending what is in hand would take that node back, so
    // when a node has a newer open row, read the outbox again under the claim.
    if (claim && pending.length && !(await holdsNewest(pending))) {
      const again = await pendingForDueNodes(db, batchSize);
      pending = mine(again.rows);
      now = again.now;
    }
    if (connected && republishDue) {
      republishDue = false;
      // Read again under the claim: the rows read before it may be older than what the lease's
      // previous holder published before it let go, and sending them would take a node back.
      const again = claim ? mine(await latestPublishedRows(db)) : republishing;
      let n = 0;
      await send(
        again,
        claim,
        () => void n++,
        (row, e) => log(`publisher: republish ${row.nodeId} r${row.revision} failed: ${e.message}`),
      );
      if (again.length) log(`publisher: republished ${n}/${again.length} retained documents after connecting`);
    }
    if (!pending.length) return 0;
    const floors = await lastPublished(db, [...new Set(pending.map((r) => r.nodeId))]);
    const plan = planDrain(pending, floors, now);
    await skip(plan.skip.filter((s) => s.after === null));

    const done: number[] = [];
    const failures: { row: OutboxRow; err: Error }[] = [];
    const fail = (row: OutboxRow, err: Error) => {
      // Not this replica's row any more: leave it open for the lease's new holder.
      if (!(err instanceof LeaseLost)) failures.push({ row, err });
    };
    if (connected) await send(plan.publish, claim, (row) => done.push(row.id), fail);
    else for (const row of plan.publish) fail(row, new Error(`broker unreachable: ${link.lastError ?? 'unknown'}`));
    for (const { row, err } of failures) {
      const attempts = row.attempts + 1;
      const wait = backoffDelayMs(attempts - 1, Math.random());
      await markFailed(db, row.id, attempts, wait, err.message);
      log(`publisher: ${row.nodeId} r${row.revision} attempt ${attempts} failed (${err.message}); retry in ${wait} ms`);
    }
    const at = new Date();
    await markPublished(db, done, at);
    const ok = new Set(done);
    await skip(plan.skip.filter((s) => s.after !== null && ok.has(s.after)));
    if (done.length) log(`publisher: published ${done.length} desired document(s)`);
    if (done.length && Date.now() >= pruneAt) {
      // With leases, only the sites this replica drains: two replicas would delete the same rows.
      const pruned = await pruneSuperseded(db, pruneBatch, claim ? [...claim.owned] : undefined);
      pruneAt = pruned >= pruneBatch ? 0 : Date.now() + pruneEveryMs;
      if (pruned) log(`publisher: pruned ${pruned} superseded outbox row(s)`);
      // Outside any transaction (VACUUM refuses to run in one), as every statement here.
      if (pruned && opts.vacuumAfterPrune) await db.execute(sql`VACUUM outbox`);
    }
    // Only after progress: rows that all belong to other replicas' sites would be read again and again.
    if (more && (done.length || failures.length || plan.skip.length)) kick();
    return done.length;
  }

  const loop = startSerialLoop(drainOnce, { pollMs: opts.pollMs ?? 1000, onError: (err) => log(`publisher: drain failed: ${err.message}`) });
  const kick = () => {
    readDue = true;
    loop.kick();
  };
  kick();

  return {
    kick,
    handoff(rows) {
      if (loop.closed || !rows.length) return;
      for (const row of rows) handed.push(row);
      loop.kick();
    },
    republish() {
      republishDue = true;
      kick();
    },
    drain: () => {
      readDue = true;
      return loop.run();
    },
    async close() {
      await loop.close();
      await link.close();
    },
  };
}
