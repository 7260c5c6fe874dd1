import { rm } from 'node:fs/promises';
import type { Engine } from '../engine/engine.ts';
import { writeFileAtomic } from '../state/atomic-file.ts';

/** Records this process's PID in the state dir (read by `lvsfleet-agent status`). */
export async function writePidFile(path: string): Promise<() => Promise<void>> {
  await writeFileAtomic(path, `${process.pid}\n`);
  return () => rm(path, { force: true });
}

/**
 * Resolves when SIGTERM or SIGINT arrives, after the engine stopped gracefully (VRRP priority 0,
 * VIPs released; IPVS, real-server VIPs and sysctls kept). SIGHUP calls `reload`.
 */
export function runUntilSignal(
  engine: Engine,
  log: (line: string) => void,
  opts: { reload?: () => Promise<void>; cleanup?: () => Promise<void> } = {},
): { done: Promise<number>; stopping: () => boolean } {
  // Installed before the first apply, so a signal during start-up is still graceful.
  let stopping = false;
  const done = new Promise<number>((resolve) => {
    const stop = async (sig: string) => {
      if (stopping) return;
      stopping = true;
      log(`${sig}: stopping (IPVS rules, real-server VIPs and sysctls stay)`);
      // Stop never throws: whatever failed is logged and the process still exits.
      let code = 0;
      try {
        await engine.stop();
      } catch (e) {
        code = 1;
        log(`stop: ${(e as Error).message}`);
      }
      try {
        await opts.cleanup?.();
      } catch (e) {
        log(`stop: cleanup failed: ${(e as Error).message}`);
      }
      process.off('SIGTERM', onTerm).off('SIGINT', onInt).off('SIGHUP', onHup);
      resolve(code);
    };
    const onTerm = () => void stop('SIGTERM');
    const onInt = () => void stop('SIGINT');
    const onHup = () => {
      log('SIGHUP: reloading');
      opts.reload?.().catch((e: Error) => log(`reload failed: ${e.message}`));
    };
    process.on('SIGTERM', onTerm).on('SIGINT', onInt).on('SIGHUP', onHup);
  });
  return { done, stopping: () => stopping };
}

/** A log function with an ISO timestamp, one line each. */
export function timestamped(write: (line: string) => void): (line: string) => void {
  return (line) => write(`${new Date().toISOString()} ${line}`);
}
