import { execFile, execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A journaled ext4 made for one benchmark row, mounted at `dir` through a loop device. */
export interface JournaledFs {
  dir: string;
  /**
   * Unmounts it and removes its image, at once (also from a process at its hard time limit): lazily
   * while a process still holds a file there (the agents', on their way out).
   */
  close(): void;
}

/**
 * `bench:publish --agents-fs ext4`: the agents' state directories on an ext4 file system of the
 * row's own, with a journal (mkfs.ext4's default, what hosts run), in a sparse image under the
 * system's temporary directory, mounted through a loop device. Root only.
 *
 * Why: an ext4 without a journal (the test machines' root file system) will not reuse an inode
 * freed in the last 30 s, or in the last 5 min while its inode table block is unwritten
 * (`recently_deleted` in fs/ext4/ialloc.c), and reads the inode table to find one. Every save
 * frees an inode, so each agent's file creations got dearer with every other agent's saves, and
 * with the thousands of files the previous row removed: on one disk, 1,000 agents' creations cost
 * 60-600 µs each where a host's own costs 20. A row of its own on a journaled ext4 measures what
 * one host pays; its fsyncs still reach the disk underneath.
 */
export async function journaledExt4(sizeMiB = 2048): Promise<JournaledFs> {
  if (process.getuid?.() !== 0) throw new Error('--agents-fs ext4 needs root: it makes and mounts a file system');
  const home = await mkdtemp(join(tmpdir(), 'lvsfleet-bench-ext4-'));
  const image = join(home, 'image');
  const dir = join(home, 'mnt');
  let mounted = false;
  const close = () => {
    if (mounted) {
      try {
        execFileSync('umount', [dir], { stdio: 'ignore' });
      } catch {
        execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      }
    }
    mounted = false;
    rmSync(home, { recursive: true, force: true });
  };
  try {
    const f = await open(image, 'w');
    await f.truncate(sizeMiB * 1024 * 1024);
    await f.close();
    // The inode tables and the journal written now, not by the kernel's lazy init during the row.
    await run('mkfs.ext4', ['-q', '-F', '-O', 'has_journal', '-E', 'lazy_itable_init=0,lazy_journal_init=0', image]);
    await mkdir(dir);
    await run('mount', ['-o', 'loop', image, dir]);
    mounted = true;
    return { dir, close };
  } catch (e) {
    close();
    throw new Error(`--agents-fs ext4: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
}
