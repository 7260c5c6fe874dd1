import { isAbsolute, join } from 'node:path';

/** Files the agent keeps in its state dir (defaultStateDir says where, without --state-dir). */
export function statePaths(dir: string) {
  return {
    dir,
    /** The last verified desired document (compact JWS in cloud mode, a JSON envelope standalone) and the version it was accepted as: the intake rejects anything not newer. */
    desired: join(dir, 'desired.json'),
    /** Where older agents kept the accepted version apart: read only when no cache file records one, removed at the next save. */
    revision: join(dir, 'revision.json'),
    /** The cloud's signing keys pinned now (key rotation): the enrollment keys until a newer key set arrives. */
    keys: join(dir, 'keys.json'),
    /** Service keys this agent created or adopted; it touches no others. */
    ipvsOwned: join(dir, 'ipvs-owned.json'),
    /** Previous sysctl values and the VIPs the real-server role set up. */
    realServer: join(dir, 'realserver.json'),
    /** Sysctl values a director replaced. */
    directorSysctls: join(dir, 'director-sysctls.json'),
    /** Standalone mode: the node's config compiled at the last start, kept for a restart with the same spec and build (../cli/compiled-cache.ts). */
    compiled: join(dir, 'standalone-compiled.json'),
    /** The running agent's status, read by `lvsfleet-agent status`. */
    status: join(dir, 'status.json'),
    /** PID of the running agent, so `status` can tell a live agent from a stale file. */
    pid: join(dir, 'agent.pid'),
  };
}
export type StatePaths = ReturnType<typeof statePaths>;

/** The state dir of an agent that runs the real dataplane as root. */
const SYSTEM_STATE_DIR = '/var/lib/lvsfleet';

/** Who runs the agent: the parts of the process that choose its state dir. */
export interface Runner {
  uid: number;
  env: Record<string, string | undefined>;
}

const currentRunner = (): Runner => ({ uid: process.getuid?.() ?? 0, env: process.env });

/** The user's own state home: $XDG_STATE_HOME, else ~/.local/state (XDG Base Directory). */
function userStateHome(env: Runner['env']): string {
  return env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(env.HOME || '/', '.local', 'state');
}

/**
 * The state dir without --state-dir (or a `stateDir` in the enrolled config): /var/lib/lvsfleet
 * for root with the real dataplane; otherwise under the user's state home, so a non-root user can
 * try the agent: `lvsfleet/` for the real dataplane, `lvsfleet/dry-run/` for a dry run. A dry run,
 * even as root, never writes into /var/lib, and so never shares (and locks) the state of a real
 * agent on the same host.
 */
export function defaultStateDir(dataplane: 'linux' | 'dry-run', who: Runner = currentRunner()): string {
  if (dataplane === 'linux' && who.uid === 0) return SYSTEM_STATE_DIR;
  const base = join(userStateHome(who.env), 'lvsfleet');
  return dataplane === 'dry-run' ? join(base, 'dry-run') : base;
}

/** Where `lvsfleet-agent status` looks without --state-dir or a config naming one: the dirs defaultStateDir can give this user, real first. */
export function stateDirCandidates(who: Runner = currentRunner()): string[] {
  return [...new Set([defaultStateDir('linux', who), defaultStateDir('dry-run', who)])];
}
export const DEFAULT_CONFIG = '/etc/lvsfleet/agent.json';
