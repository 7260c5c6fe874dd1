import { execFile } from 'node:child_process';
import { mkdtemp, open, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Mounting a tmpfs needs root (CI runs as root); full-disk tests skip, saying so, without it. */
export const canMountTmpfs = process.getuid?.() === 0;
if (!canMountTmpfs) console.warn('full-disk tests skipped: mounting a small tmpfs needs root');

export interface SmallDisk {
  /** The mount point: a state dir on a disk that can be filled. */
  dir: string;
  /** Fills the disk with one file until the kernel says ENOSPC. */
  fill(): Promise<void>;
  /** Removes that file again. */
  free(): Promise<void>;
  unmount(): Promise<void>;
}

/** Mounts a small tmpfs (a real filesystem with a real ENOSPC) on a fresh temp dir. */
export async function smallTmpfs(sizeKb = 64): Promise<SmallDisk> {
  const dir = await mkdtemp(join(tmpdir(), 'lvsf-full-'));
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0700`, 'tmpfs', dir]);
  const filler = join(dir, 'filler');
  return {
    dir,
    async fill() {
      const fh = await open(filler, 'a');
      try {
        for (;;) await fh.write(Buffer.alloc(4096, 120));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      } finally {
        await fh.close();
      }
    },
    free: () => rm(filler, { force: true }),
    async unmount() {
      await run('umount', [dir]);
      await rmdir(dir);
    },
  };
}
