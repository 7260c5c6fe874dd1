import { CHECK_TYPES } from '#shared/site/ipvs-words.ts';
import { startHealthChecker } from '../src/checks/health-checker.ts';
import type { Checker } from '../src/checks/types.ts';
import type { StartHealthChecker } from '../src/engine/parts.ts';

/** A probe that is never sent: it waits to be aborted (at its timeout, or when the engine stops). */
const unanswered: Checker = (_check, signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, detail: 'aborted' })));

/**
 * A director's health checker for the benchmarks, whose probes never leave the machine: the
 * benchmark sites' real servers are made-up addresses. What a director's apply pays for its checker
 * (taking each config: its checks and probe keys) is paid as on a host; the benchmarks give their
 * checks a warmup of an hour (`bigSiteSpec`'s `checkWarmup`), so no probe is scheduled while they time.
 */
export const silentHealthChecker: StartHealthChecker = async (o) =>
  startHealthChecker({ ...o, checkers: Object.fromEntries(CHECK_TYPES.map((t) => [t, unanswered])) });
