import { chmod, copyFile, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Seesaw-style save: write a temp file, fsync it, keep the previous file as `.bak`, rename the
 * temp over the target, fsync the directory. A crash at any point leaves either the old or the
 * new file whole, and the backup one version behind. A failed write (a full disk) removes its
 * temp file and throws an error that names the target: `PATH: ENOSPC: …`, with the errno code kept.
 */
let seq = 0;

export async function writeFileAtomic(path: string, data: string, opts: { backup?: boolean; mode?: number } = {}): Promise<void> {
  // Unique per call: two writes of one file in flight (status reports) must not share a temp.
  const tmp = `${path}.tmp-${process.pid}-${++seq}`;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const fh = await open(tmp, 'w', opts.mode ?? 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (opts.mode !== undefined) await chmod(tmp, opts.mode);
    if (opts.backup)
      await copyFile(path, `${path}.bak`).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    await rename(tmp, path);
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (e) {
    // After the rename the temp is gone and this removes nothing.
    await rm(tmp, { force: true }).catch(() => {});
    throw namingFile(path, e);
  }
}

/** `e` with `path` in front of its message (Node's own messages name the temp, or no file at all), errno code kept. */
function namingFile(path: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  const out: NodeJS.ErrnoException = new Error(`${path}: ${err instanceof Error ? err.message : String(e)}`, { cause: e });
  if (err?.code !== undefined) out.code = err.code;
  return out;
}

/** Reads a file, or null when it does not exist. */
export async function readFileOrNull(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}
