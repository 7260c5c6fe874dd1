import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorText } from '../errors.ts';
import { readFileOrNull } from './atomic-file.ts';

/**
 * One agent per node, keyed by the state dir (one per node): two agents for one node would both
 * be VRRP master (each drops adverts from its own source address, so they never see each other)
 * and, once either stops, the other would hold no VIP while believing it is master.
 *
 * The lock is flock(2) on the pid file, taken through util-linux's flock(1) because Node has no
 * flock call. An O_EXCL pid file with stale-lock detection was the alternative, and it has races
 * no check closes: two agents that find one stale lock both remove it and both win, and a crashed
 * agent's PID reused by another process makes a stale lock look live. A flock belongs to the open
 * file description and the kernel drops it when the holder exits, however it exits (SIGKILL, OOM,
 * power loss), so there is no stale lock to detect; of two agents starting at the same moment the
 * kernel lets exactly one have it.
 *
 * The agent opens the file and hands the descriptor to `flock --nonblock 3` as fd 3: the child
 * locks the description it shares with the agent and exits; the lock stays with the agent's
 * descriptor (Node opens files close-on-exec, so no later child inherits it) until the agent exits
 * or releases it. The file is never unlinked — an agent that opened the old inode just before an
 * unlink would lock a file no later agent sees; a stopped agent empties it instead.
 */

export class NodeLockedError extends Error {
  constructor(readonly pid: number | null) {
    super(`another agent (pid ${pid ?? 'unknown'}) is running for this node`);
    this.name = 'NodeLockedError';
  }
}

export interface NodeLock {
  /** Empties the pid file and drops the lock. Never throws. */
  release(): Promise<void>;
}

/** flock(1) exits with this when the lock is held elsewhere (its default, 1, is also its usage error). */
const HELD = 75;

/**
 * Takes the node's lock on `pidPath` and writes this process's PID into it; throws
 * NodeLockedError when another live process holds it. Call before anything touches VRRP or IPVS.
 */
export async function lockNode(pidPath: string, log: (line: string) => void): Promise<NodeLock> {
  await mkdir(dirname(pidPath), { recursive: true, mode: 0o700 });
  // O_CREAT without O_TRUNC: the holder's PID must stay readable for the refusal message.
  const fh = await open(pidPath, constants.O_RDWR | constants.O_CREAT, 0o600);
  try {
    const code = await flockFd(fh.fd, pidPath);
    if (code === HELD) throw new NodeLockedError(await holderPid(pidPath));
  } catch (e) {
    await fh.close();
    throw e;
  }
  try {
    await fh.truncate(0);
    await fh.write(`${process.pid}\n`, 0);
  } catch (e) {
    // The lock is what keeps a second agent out; the PID in it only informs (a full disk).
    log(`${pidPath}: ${errorText(e)}; the node lock is held, but \`status\` will not see this agent's pid`);
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await fh.truncate(0).catch(() => {});
      await fh.close().catch(() => {});
    },
  };
}

/** Runs `flock --nonblock --exclusive 3` on `fd`; resolves to its exit code (0 locked, HELD taken). */
function flockFd(fd: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn('flock', ['--nonblock', '--exclusive', '--conflict-exit-code', String(HELD), '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
    let err = '';
    p.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    p.on('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(`cannot lock ${path}: ${e.code === 'ENOENT' ? 'flock(1) (util-linux) is not installed' : e.message}`)),
    );
    p.on('close', (code) => {
      if (code === 0 || code === HELD) resolve(code);
      else reject(new Error(`cannot lock ${path}: flock exited ${code ?? 'on a signal'}${err.trim() ? `: ${err.trim()}` : ''}`));
    });
  });
}

/** The holder's PID from the file; it writes it just after locking, so a brand-new holder gets a moment. */
async function holderPid(path: string): Promise<number | null> {
  for (let i = 0; i < 10; i++) {
    const pid = Number((await readFileOrNull(path).catch(() => null))?.trim());
    if (Number.isInteger(pid) && pid > 0) return pid;
    await sleep(50);
  }
  return null;
}
