import * as fs from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

/**
 * Seesaw-style save: write a temp file, fsync it, keep the previous file as `.bak` (a hard link),
 * rename the temp over the target, fsync the directory. A crash at any point leaves either the old or the
 * new file whole, and the backup one version behind. A failed write (a full disk) removes its
 * temp file and throws an error that names the target: `PATH: ENOSPC: …`, with the errno code kept.
 */
let seq = 0;

/**
 * The save's steps are node:fs's callback API, promisified, rather than `fs/promises`' FileHandle:
 * the FileHandle's objects and promise plumbing were about half the main thread's time of a save
 * (0.28 ms against 0.13-0.17 for the same system calls).
 *
 * Each step that may wait for the disk (creating the temp file, writing it, fsync, the renames) runs
 * on libuv's threads, so that a slow disk never holds the event loop and its VRRP and BFD timers.
 * Closing a descriptor and opening the directory to fsync it wait for nothing, and are called
 * directly: a step on libuv's threads costs 35-50 µs of CPU here (the wake-ups of a worker and of
 * the loop) against 3 for the call itself, and a real server's apply made eighteen such steps,
 * about half of its CPU.
 */
const open = promisify(fs.open);
const writeFd = promisify(fs.writeFile);
const fsync = promisify(fs.fsync);
const rename = promisify(fs.rename);
const link = promisify(fs.link);

export interface AtomicWriteOptions {
  backup?: boolean;
  mode?: number;
  /**
   * false: no fsync of the file or its directory. Readers still see the old file or the new one
   * whole (the rename), but a crash may lose the write. For reports rewritten at every change (the
   * status file), whose last version a crash may lose and the next start rewrites anyway; never
   * for state the agent needs to undo or to refuse a replay.
   */
  durable?: boolean;
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const durable = opts.durable ?? true;
  // Unique per call: two writes of one file in flight (status reports) must not share a temp.
  const tmp = `${path}.tmp-${process.pid}-${++seq}`;
  try {
    const fd = await openCreatingDir(tmp, opts.mode ?? 0o600);
    try {
      // Given a descriptor, writeFile writes the whole text (looping on short writes) and leaves it open.
      await writeFd(fd, data);
      if (durable) await fsync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (opts.mode !== undefined) await chmod(tmp, opts.mode);
    if (opts.backup) await keepBackup(path);
    await rename(tmp, path);
    if (!durable) return;
    const dir = fs.openSync(dirname(path), 'r');
    try {
      await fsync(dir);
    } finally {
      fs.closeSync(dir);
    }
  } catch (e) {
    // After the rename the temp is gone and this removes nothing.
    await rm(tmp, { force: true }).catch(() => {});
    throw namingFile(path, e);
  }
}

/** A file system that has no hard links says so with one of these (vfat: EPERM). */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'EXDEV']);

/**
 * Keeps the file about to be replaced as `PATH.bak`: a second name for it (a hard link, swapped in
 * by a rename), not a copy. Files here are only ever replaced by a rename, never written in place,
 * so the inode the backup names stays as it was; the copy it replaces read and wrote the whole file
 * on every save (a director's document lists every real server). Copied where links are refused.
 */
async function keepBackup(path: string): Promise<void> {
  const tmp = `${path}.bak.tmp-${process.pid}-${++seq}`;
  try {
    await link(path, tmp);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENOENT') return;
    if (!NO_LINKS.has(code)) throw e;
    await copyFile(path, `${path}.bak`);
    return;
  }
  try {
    await rename(tmp, `${path}.bak`);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
}

/** Opens a new file, making its directory (0700) only when it is missing: one call fewer per write. */
async function openCreatingDir(path: string, mode: number): Promise<number> {
  try {
    return await open(path, 'w', mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    return open(path, 'w', mode);
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
