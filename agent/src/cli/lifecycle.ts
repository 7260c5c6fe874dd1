import { mark } from '../debug/failover-timing.ts';
import type { Engine } from '../engine/engine.ts';
import { errorText } from '../errors.ts';
import { lockNode, NodeLockedError, type NodeLock } from '../state/node-lock.ts';
import { statePaths } from '../state/paths.ts';
import type { AgentIO } from './io.ts';

/**
 * Takes the node's lock in its state dir (the pid file, read by `lvsfleet-agent status`), before
 * anything touches VRRP or IPVS. Null, after saying so on stderr, when another agent holds it.
 */
export async function lockStateDir(stateDir: string, io: AgentIO, log: (line: string) => void): Promise<NodeLock | null> {
  try {
    return await lockNode(statePaths(stateDir).pid, log);
  } catch (e) {
    if (!(e instanceof NodeLockedError)) throw e;
    io.err(`${e.message} (state dir ${stateDir}); not starting`);
    return null;
  }
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
      mark?.('signal', sig);
      // Stop never throws (a rejection here would be unhandled): whatever failed is logged, the
      // exit code says so, and the process still exits.
      let code = 0;
      try {
        log(`${sig}: stopping (IPVS rules, real-server VIPs and sysctls stay)`);
        await engine.stop().catch((e: unknown) => {
          code = 1;
          log(`stop: ${errorText(e)}`);
        });
        // The engine stopped; what is left (the node lock, the cloud link) cannot change the exit code.
        await opts.cleanup?.().catch((e: unknown) => log(`stop: cleanup failed: ${errorText(e)}`));
      } catch {
        code = 1; // only `log` itself can land here
      } finally {
        process.off('SIGTERM', onTerm).off('SIGINT', onInt).off('SIGHUP', onHup);
        resolve(code);
      }
    };
    const onTerm = () => void stop('SIGTERM');
    const onInt = () => void stop('SIGINT');
    const onHup = () => {
      log('SIGHUP: reloading');
      opts.reload?.().catch((e: unknown) => log(`reload failed: ${errorText(e)}`));
    };
    process.on('SIGTERM', onTerm).on('SIGINT', onInt).on('SIGHUP', onHup);
  });
  return { done, stopping: () => stopping };
}

/** A log function with an ISO timestamp, one line each. */
export function timestamped(write: (line: string) => void): (line: string) => void {
  return (line) => write(`${new Date().toISOString()} ${line}`);
}
