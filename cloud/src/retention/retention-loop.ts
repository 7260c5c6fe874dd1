import type { Db } from '../db/client.ts';
import { retentionLine, retentionRound } from './prune.ts';

/** A round every hour; events are kept for days, so an hour late is nothing. */
const PERIOD_MS = 3_600_000;
/** The first round waits until the start's own work is done. */
const FIRST_AFTER_MS = 60_000;
/** A round that stopped at its bound (a backlog, as after an upgrade) goes on after this pause, not an hour later. */
const CATCH_UP_MS = 10_000;
/** Batches of each kind per round: 100,000 events at most, then the pause. */
const MAX_BATCHES = 20;

/**
 * Deletes events and finished webhook deliveries older than `days` in the Node process: a round a
 * minute after the start, then every hour (`serve --event-retention-days`; 0 runs nothing). Every
 * replica may run it: the deletes are of the same rows, and each counts only what it deleted.
 */
export function startRetention(o: { db: Db; days: number; log: (line: string) => void; vacuum?: boolean; now?: () => number; firstAfterMs?: number }): {
  close(): Promise<void>;
} {
  const now = o.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let running: Promise<void> = Promise.resolve();
  const schedule = (ms: number) => {
    if (closed) return;
    timer = setTimeout(() => {
      running = round();
    }, ms);
    timer.unref();
  };
  const round = async () => {
    let more = false;
    try {
      const r = await retentionRound(o.db, { days: o.days, now: now(), maxBatches: MAX_BATCHES, vacuum: o.vacuum });
      const line = retentionLine(r, o.days);
      if (line) o.log(line);
      more = r.more;
    } catch (e) {
      // The database's own words: drizzle's message is the whole statement, its cause says what went wrong.
      const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
      o.log(`retention: round failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
    schedule(more ? CATCH_UP_MS : PERIOD_MS);
  };
  if (o.days > 0) schedule(o.firstAfterMs ?? FIRST_AFTER_MS);
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
