import { backoffDelayMs } from '#shared/util/backoff.ts';
import { topics } from '#shared/wire/topics.ts';
import type { DesiredClaims } from '#shared/wire/desired.ts';
import type { Db } from '../db/client.ts';
import type { Signer } from '../keys/signing.ts';
import type { PublishLink } from '../mqtt/link.ts';
import { planDrain } from '../publisher/plan.ts';
import {
  lastPublished,
  latestPublishedRows,
  markFailed,
  markPublished,
  markSkipped,
  pendingForDueNodes,
  pruneSuperseded,
  type OutboxRow,
} from '../publisher/outbox-store.ts';

/** Rows read per drain of one site. */
const BATCH = 5000;
/** PUBACKs outstanding at once on the site's connection. */
const WINDOW = 200;

/**
 * One drain of one site's outbox (docs/architecture.md, "Runtimes"): the same plan as the Node
 * publisher (`planDrain`: newest document per node, never an older one after a newer one), each
 * document signed at publish and sent retained at QoS 1; a row is `published` only on PUBACK, a
 * failure backs it off (`next_attempt_at`). The caller is the site's only writer (its Durable
 * Object), so no lease is taken.
 */
export async function drainSite(
  db: Db,
  siteId: string,
  link: PublishLink,
  signer: Pick<Signer, 'sign'>,
  log: (line: string) => void,
): Promise<{ published: number; failed: number }> {
  // Due on the database's clock, and planned at its time of the read (outbox-store.ts says why).
  const { rows: pending, now } = await pendingForDueNodes(db, BATCH, siteId);
  if (!pending.length) return { published: 0, failed: 0 };
  const connected = await link.ensure();
  const floors = await lastPublished(db, [...new Set(pending.map((r) => r.nodeId))]);
  const plan = planDrain(pending, floors, now);
  await skip(
    db,
    plan.skip.filter((s) => s.after === null),
  );
  const done: number[] = [];
  const failures: { row: OutboxRow; err: Error }[] = [];
  // Pipelined on the one connection, up to WINDOW PUBACKs outstanding (as the Node publisher):
  // the plan holds one row per node, so their order among themselves is free; one after another
  // a site's documents waited a broker round trip each.
  const inflight = new Set<Promise<void>>();
  for (const row of plan.publish) {
    if (!connected) {
      failures.push({ row, err: new Error(`broker unreachable: ${link.lastError ?? 'unknown'}`) });
      continue;
    }
    while (inflight.size >= WINDOW) await Promise.race(inflight);
    const p: Promise<void> = signer
      .sign(row.claims as DesiredClaims)
      .then((jws) => link.publish(topics.desired(row.nodeId), jws, { retain: true }))
      .then(
        () => void done.push(row.id),
        (err: Error) => void failures.push({ row, err }),
      )
      .finally(() => inflight.delete(p));
    inflight.add(p);
  }
  await Promise.all(inflight);
  for (const { row, err } of failures) {
    const attempts = row.attempts + 1;
    const wait = backoffDelayMs(attempts - 1, Math.random());
    await markFailed(db, row.id, attempts, wait, err.message);
    log(`publisher: ${row.nodeId} r${row.revision} attempt ${attempts} failed (${err.message}); retry in ${wait} ms`);
  }
  const failed = failures.length;
  await markPublished(db, done, new Date());
  const ok = new Set(done);
  await skip(
    db,
    plan.skip.filter((s) => s.after !== null && ok.has(s.after)),
  );
  // What these documents superseded (the Node publisher prunes the same, once a minute at most).
  if (done.length) await pruneSuperseded(db, BATCH, [siteId]);
  return { published: done.length, failed };
}

/**
 * After the key set changed (a rotation step, or `keys rotate`): every node of the site gets its
 * newest published document again, signed now, so it carries the new key set (the Node publisher's
 * `republish`). Nothing is marked: the rows stay published; a node with a newer row still open
 * gets that one from the drain instead. Answers how many went out and how many failed.
 */
export async function republishSite(
  db: Db,
  siteId: string,
  link: PublishLink,
  signer: Pick<Signer, 'sign'>,
  log: (line: string) => void,
): Promise<{ published: number; failed: number }> {
  const rows = await latestPublishedRows(db, siteId);
  if (!rows.length) return { published: 0, failed: 0 };
  if (!(await link.ensure())) {
    log(`publisher: ${siteId}: republish after a key change: broker unreachable: ${link.lastError ?? 'unknown'}`);
    return { published: 0, failed: rows.length };
  }
  let published = 0;
  for (const row of rows) {
    try {
      await link.publish(topics.desired(row.nodeId), await signer.sign(row.claims as DesiredClaims), { retain: true });
      published++;
    } catch (err) {
      log(`publisher: republish ${row.nodeId} r${row.revision} failed: ${(err as Error).message}`);
    }
  }
  return { published, failed: rows.length - published };
}

/** Marks rows skipped: one statement per distinct reason. */
async function skip(db: Db, rows: { row: OutboxRow; reason: string }[]): Promise<void> {
  const byReason = new Map<string, number[]>();
  for (const s of rows) byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), s.row.id]);
  for (const [reason, ids] of byReason) await markSkipped(db, ids, reason);
}
