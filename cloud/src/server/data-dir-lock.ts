import { open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Another live `lvsfleet serve` holds the data directory. */
export class DataDirInUseError extends Error {
  constructor(dir: string, pid: number | null) {
    super(`the data directory ${dir} is in use by another lvsfleet serve (pid ${pid ?? 'unknown'}); stop it or pass another --data-dir`);
    this.name = 'DataDirInUseError';
  }
}

/** A lock file that is still empty this long after it was made was left by a start that died. */
const EMPTY_LOCK_STALE_MS = 10_000;

/**
 * One `serve` per data directory: two servers on one PGlite directory corrupt it. The lock is a
 * file made with O_EXCL that holds the server's PID; a lock whose PID is no longer running (a
 * server that was killed) is stale and taken over. Two servers that find the same stale lock at
 * the same instant could both take it; that needs two starts within microseconds of each other
 * after a crash, and PGlite's own files are opened only after this succeeds.
 */
export async function lockDataDir(dir: string, pid = process.pid): Promise<{ release(): Promise<void> }> {
  const path = join(dir, 'serve.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      try {
        await fh.writeFile(`${pid}\n`);
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const holder = await holderOf(path);
    if (holder.live) throw new DataDirInUseError(dir, holder.pid);
    await unlink(path).catch(() => {});
  }
  return {
    async release() {
      // Only our own lock: never remove one a later server took over.
      if ((await holderOf(path)).pid === pid) await unlink(path).catch(() => {});
    },
  };
}

async function holderOf(path: string): Promise<{ pid: number | null; live: boolean }> {
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null) return { pid: null, live: false };
  const pid = Number(text.trim());
  if (!text.trim()) {
    const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: 0 }))).mtimeMs;
    return { pid: null, live: age < EMPTY_LOCK_STALE_MS };
  }
  if (!Number.isInteger(pid) || pid <= 0) return { pid: null, live: false };
  return { pid, live: isRunning(pid) };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
