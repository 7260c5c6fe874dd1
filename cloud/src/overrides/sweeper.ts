import type { Db } from '../db/client.ts';
import { sweepExpired } from './store.ts';

/**
 * Runs the expiry sweep every `periodMs` (default 5 s) in the Node process and kicks the
 * publisher when it ended something. The agents revert on their own clocks; this only keeps the
 * record, the API and the published documents in step.
 */
export function startOverrideSweeper(o: { db: Db; kick: () => void; log: (line: string) => void; periodMs?: number }): { close(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = running.then(async () => {
      try {
        const n = await sweepExpired(o.db);
        if (n) {
          o.log(`overrides: ${n} expired; republishing`);
          o.kick();
        }
      } catch (e) {
        o.log(`overrides: sweep failed: ${(e as Error).message}`);
      }
    });
  };
  const timer = setInterval(tick, o.periodMs ?? 5000);
  timer.unref();
  tick();
  return {
    async close() {
      clearInterval(timer);
      await running;
    },
  };
}
