import { mkdir, open, readFile, rename, copyFile, chmod } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Seesaw-style save: write a temp file, fsync it, keep the previous file as `.bak`, rename the
 * temp over the target, fsync the directory. A crash at any point leaves either the old or the
 * new file whole, and the backup one version behind.
 */
let seq = 0;

export async function writeFileAtomic(path: string, data: string, opts: { backup?: boolean; mode?: number } = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // Unique per call: two writes of one file in flight (status reports) must not share a temp.
  const tmp = `${path}.tmp-${process.pid}-${++seq}`;
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

/** Reads JSON state, or `fallback` when absent; a corrupt file throws. */
export async function readJson<T>(path: string, fallback: T): Promise<T> {
  const text = await readFileOrNull(path);
  return text === null ? fallback : (JSON.parse(text) as T);
}
