import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileOrNull, writeFileAtomic } from './atomic-file.ts';
import { canMountTmpfs, smallTmpfs, type SmallDisk } from './tmpfs.test-support.ts';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lvsf-atomic-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('creates the directory, writes the mode given, and leaves no temp file', async () => {
    const f = join(dir, 'sub', 'state.json');
    await writeFileAtomic(f, '{"v":1}', { mode: 0o640 });
    expect(await readFile(f, 'utf8')).toBe('{"v":1}');
    expect((await stat(f)).mode & 0o777).toBe(0o640);
    expect((await stat(join(dir, 'sub'))).mode & 0o777).toBe(0o700);
    expect(await readdir(join(dir, 'sub'))).toEqual(['state.json']);
  });

  it('keeps exactly one backup, one version behind: the replaced file itself, not a copy', async () => {
    const f = join(dir, 'state.json');
    const inodes: number[] = [];
    for (const v of [1, 2, 3]) {
      await writeFileAtomic(f, `{"v":${v}}`, { backup: true, mode: 0o640 });
      inodes.push((await stat(f)).ino);
    }
    expect(await readFile(f, 'utf8')).toBe('{"v":3}');
    expect(await readFile(`${f}.bak`, 'utf8')).toBe('{"v":2}');
    const bak = await stat(`${f}.bak`);
    expect([bak.ino, bak.nlink, bak.mode & 0o777]).toEqual([inodes[1], 1, 0o640]);
    expect((await readdir(dir)).sort()).toEqual(['state.json', 'state.json.bak']);
  });

  it.each([true, false])('concurrent writes of one file all succeed and leave one of them whole (durable: %s)', async (durable) => {
    const f = join(dir, 'status.json');
    const texts = Array.from({ length: 20 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(4096) }));
    await Promise.all(texts.map((t) => writeFileAtomic(f, t, { durable })));
    expect(texts).toContain(await readFile(f, 'utf8'));
    expect(await readdir(dir)).toEqual(['status.json']);
  });

  it('a failure after the temp file exists (the target is a directory) removes the temp and names the target', async () => {
    const f = join(dir, 'state.json');
    await writeFile(join(dir, 'other'), 'x');
    await mkdir(join(f, 'inside'), { recursive: true });
    await expect(writeFileAtomic(f, '{}')).rejects.toThrow(new RegExp(`^${f}: E(ISDIR|NOTEMPTY)`));
    expect((await readdir(dir)).sort()).toEqual(['other', 'state.json']);
  });
});

describe.skipIf(!canMountTmpfs)('writeFileAtomic on a full disk', () => {
  let disk: SmallDisk;
  beforeEach(async () => {
    disk = await smallTmpfs();
  });
  afterEach(() => disk.unmount());

  it('fails naming the file with ENOSPC, leaves the old file and its backup whole and no temp file; works again once there is room', async () => {
    const f = join(disk.dir, 'desired.json');
    await writeFileAtomic(f, '{"v":1}', { backup: true });
    await writeFileAtomic(f, '{"v":2}', { backup: true });
    await disk.fill();
    const big = JSON.stringify({ v: 3, pad: 'x'.repeat(16_384) });
    for (let i = 0; i < 3; i++) {
      const e = await writeFileAtomic(f, big, { backup: true }).then(
        () => null,
        (x: NodeJS.ErrnoException) => x,
      );
      expect(e?.message).toMatch(new RegExp(`^${f}: ENOSPC`));
      expect(e?.code).toBe('ENOSPC');
    }
    expect((await readdir(disk.dir)).sort()).toEqual(['desired.json', 'desired.json.bak', 'filler']);
    expect(await readFile(f, 'utf8')).toBe('{"v":2}');
    expect(await readFile(`${f}.bak`, 'utf8')).toBe('{"v":1}');
    await disk.free();
    await writeFileAtomic(f, big, { backup: true });
    expect(JSON.parse(await readFile(f, 'utf8'))).toMatchObject({ v: 3 });
  });

  it('a text the disk fills up in the middle of fails with ENOSPC, never leaves part of it as the file', async () => {
    const f = join(disk.dir, 'desired.json');
    await writeFileAtomic(f, '{"v":1}');
    // Larger than the whole 64 KB disk, in multi-byte characters: the kernel takes part of it, then refuses the rest.
    const huge = JSON.stringify({ v: 2, pad: 'é'.repeat(50_000) });
    await expect(writeFileAtomic(f, huge)).rejects.toMatchObject({ code: 'ENOSPC', message: expect.stringMatching(new RegExp(`^${f}: ENOSPC`)) });
    expect(await readdir(disk.dir)).toEqual(['desired.json']);
    expect(await readFile(f, 'utf8')).toBe('{"v":1}');
    // Room for it once the disk is empty: written whole.
    await rm(f);
    const fits = JSON.stringify({ v: 3, pad: 'é'.repeat(20_000) });
    await writeFileAtomic(f, fits);
    expect(await readFile(f, 'utf8')).toBe(fits);
  });
});

describe('readFileOrNull', () => {
  it('is null for an absent file, the text otherwise; other errors throw', async () => {
    const f = join(dir, 'state.json');
    expect(await readFileOrNull(f)).toBeNull();
    await writeFile(f, '{"v":');
    expect(await readFileOrNull(f)).toBe('{"v":');
    await expect(readFileOrNull(dir)).rejects.toThrow(/EISDIR/);
  });
});
