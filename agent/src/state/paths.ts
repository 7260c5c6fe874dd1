import { join } from 'node:path';

/** Files the agent keeps in its state dir (default /var/lib/lvsfleet). */
export function statePaths(dir: string) {
  return {
    dir,
    /** The last verified desired document (compact JWS in cloud mode, a JSON envelope standalone). */
    desired: join(dir, 'desired.json'),
    /** Highest revision accepted by the intake, which rejects anything not newer. */
    revision: join(dir, 'revision.json'),
    /** The cloud's signing keys pinned now (key rotation): the enrollment keys until a newer key set arrives. */
    keys: join(dir, 'keys.json'),
    /** Service keys this agent created or adopted; it touches no others. */
    ipvsOwned: join(dir, 'ipvs-owned.json'),
    /** Previous sysctl values and the VIPs the real-server role set up. */
    realServer: join(dir, 'realserver.json'),
    /** Sysctl values a director replaced. */
    directorSysctls: join(dir, 'director-sysctls.json'),
    /** The running agent's status, read by `lvsfleet-agent status`. */
    status: join(dir, 'status.json'),
    /** PID of the running agent, so `status` can tell a live agent from a stale file. */
    pid: join(dir, 'agent.pid'),
  };
}
export type StatePaths = ReturnType<typeof statePaths>;

export const DEFAULT_STATE_DIR = '/var/lib/lvsfleet';
export const DEFAULT_CONFIG = '/etc/lvsfleet/agent.json';
