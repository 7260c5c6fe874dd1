import { startSerialLoop } from '#shared/util/serial-loop.ts';
import type { Db } from '../db/client.ts';
import { advanceRollout } from './advance.ts';
import { loadReports, ReportCache } from './reports.ts';
import { activeRollouts } from './store.ts';

export interface RolloutDriver {
  /** Asks for a tick soon (an apply just wrote a staged revision). */
  kick(): void;
  /** Runs one tick over every active rollout, after any tick in progress. */
  tick(): Promise<void>;
  close(): Promise<void>;
}

export interface RolloutDriverOptions {
  db: Db;
  /** The publisher's kick: released or rolled-back documents are waiting. */
  kickPublisher: () => void;
  log?: (line: string) => void;
  /** How often every active rollout is looked at (default 1000 ms): the resolution of the bake and the timeouts. */
  pollMs?: number;
}

/**
 * The thin shell around the rollout planner: every poll, each active rollout gets a tick with its
 * site's latest reports (node_status and apply.failed events, written by ingest) and the time.
 * Ticks never overlap. Run one per database, beside the publisher.
 */
export function startRolloutDriver(opts: RolloutDriverOptions): RolloutDriver {
  const { db } = opts;
  const log = opts.log ?? (() => {});
  // The reports between ticks: only those that moved are read again.
  const reports = new ReportCache();

  async function tickOnce(): Promise<void> {
    if (loop.closed) return;
    await tickRollouts(db, opts.kickPublisher, log, reports);
  }

  const loop = startSerialLoop(tickOnce, { pollMs: opts.pollMs ?? 1000, onError: (err) => log(`rollout: tick failed: ${err.message}`) });

  return { kick: () => loop.kick(), tick: () => loop.run(), close: () => loop.close() };
}

/**
 * One tick of every active rollout with its site's latest reports and the time (the Node driver's
 * poll, and the Workers cron). One site's trouble (a database error mid-step) is logged and does
 * not stall the other sites' rollouts. `cache`: the reports of the last tick (the Node driver's),
 * kept for the sites whose rollout still runs.
 */
export async function tickRollouts(db: Db, kickPublisher: () => void, log: (line: string) => void, cache?: ReportCache): Promise<void> {
  const active = await activeRollouts(db);
  cache?.keepOnly(new Set(active.map((r) => r.siteId)));
  for (const row of active) {
    try {
      const now = new Date();
      const reports = await loadReports(db, row.siteId, row.revision, row.createdAt, now.getTime(), row.nodeNames, cache);
      await advanceRollout({ db, kick: kickPublisher, log }, row.id, { type: 'tick', reports }, now);
    } catch (err) {
      log(`rollout: tick of revision ${row.revision} (site ${row.siteId}) failed: ${(err as Error).message}`);
    }
  }
}
