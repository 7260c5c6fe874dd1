import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { journaledExt4 } from './journaled-fs.ts';

/** Why this cannot run here: it makes and mounts a file system. */
function skipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to mount a loop device';
  try {
    execFileSync('mkfs.ext4', ['-V'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'mkfs.ext4 is not installed';
  }
}
const reason = skipReason();
if (reason) console.log(`skipping the benchmark's journaled file system: ${reason}`);

describe.skipIf(reason !== null)("bench:publish --agents-fs ext4: the agents' state on a journaled ext4 of the row's own", () => {
  it('mounts an ext4 with a journal, writable, and leaves nothing behind once closed', async () => {
    const fs = await journaledExt4(64);
    try {
      const mount = execFileSync('findmnt', ['-n', '-o', 'FSTYPE,SOURCE', '--target', fs.dir], { encoding: 'utf8' }).trim().split(/\s+/);
      expect(mount[0]).toBe('ext4');
      expect(mount[1]).toMatch(/^\/dev\/loop\d+$/);
      // The journal: what keeps the allocator from passing over recently freed inodes.
      expect(execFileSync('dumpe2fs', ['-h', mount[1]], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })).toMatch(/features:.*has_journal/);
      writeFileSync(join(fs.dir, 'state'), 'x');
      expect(readFileSync(join(fs.dir, 'state'), 'utf8')).toBe('x');
    } finally {
      fs.close();
    }
    expect(existsSync(fs.dir)).toBe(false);
    expect(existsSync(dirname(fs.dir))).toBe(false);
  });

  it('closes while a file is still open there (agents on their way out at the hard time limit): detached and removed', async () => {
    const fs = await journaledExt4(64);
    const fd = openSync(join(fs.dir, 'state'), 'w');
    try {
      fs.close();
      expect(execFileSync('findmnt', ['-n', '-o', 'TARGET'], { encoding: 'utf8' })).not.toContain(fs.dir);
      expect(existsSync(dirname(fs.dir))).toBe(false);
    } finally {
      closeSync(fd);
    }
  });
});
