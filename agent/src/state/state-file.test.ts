import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { StateFile } from './state-file.ts';
import { canMountTmpfs, smallTmpfs, type SmallDisk } from './tmpfs.test-support.ts';

const Owned = z.array(z.string());

function owned(path: string) {
  const logs: string[] = [];
  return { file: new StateFile(path, { schema: Owned, log: (l) => logs.push(l), stringify: (v) => JSON.stringify(v) }), logs };
}

describe('StateFile', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lvsf-state-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it.each([
    ['not JSON', '["tcp:10.0.0.1:80",', /Unexpected end of JSON input|JSON/],
    ['the wrong shape', '{"tcp:10.0.0.1:80": true}', /file: Invalid input: expected array/],
    ['a wrong element', '["tcp:10.0.0.1:80", 7]', /1: Invalid input: expected string/],
  ])('a file holding %s is logged by name, read as absent, and replaced by the next write', async (_what, text, why) => {
    const f = join(dir, 'ipvs-owned.json');
    await writeFile(f, text);
    const { file, logs } = owned(f);
    expect(await file.read([])).toEqual([]);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(new RegExp(`^state file ${f} is corrupt \\(.+\\); starting without it$`));
    expect(logs[0]).toMatch(why);
    // The same (empty) value is written: the file on disk is not what it says.
    expect(await file.write([])).toBe(true);
    expect(await readFile(f, 'utf8')).toBe('[]');
  });

  it('writes nothing when the file already holds the value (read or last written), and again after a change', async () => {
    const f = join(dir, 'ipvs-owned.json');
    const { file } = owned(f);
    expect(await file.read([])).toEqual([]);
    expect(await file.write([])).toBe(false); // absent and empty say the same
    await expect(stat(f)).rejects.toThrow(/ENOENT/);
    expect(await file.write(['a'])).toBe(true);
    const ino = (await stat(f)).ino;
    expect(await file.write(['a'])).toBe(false);
    expect((await stat(f)).ino).toBe(ino); // every real write renames a new inode in
    const again = owned(f).file;
    expect(await again.read([])).toEqual(['a']);
    expect(await again.write(['a'])).toBe(false);
    expect(await again.write(['a', 'b'])).toBe(true);
    expect((await stat(f)).ino).not.toBe(ino);
  });

  it('an unreadable file (not corruption) throws, naming it', async () => {
    await writeFile(join(dir, 'x'), '');
    const { file } = owned(join(dir, 'x', 'y.json'));
    await expect(file.read([])).rejects.toThrow(/ENOTDIR.*x\/y\.json/);
  });
});

describe.skipIf(!canMountTmpfs)('StateFile on a full disk', () => {
  let disk: SmallDisk;
  beforeEach(async () => {
    disk = await smallTmpfs();
  });
  afterEach(() => disk.unmount());

  it('a failed write names the file, leaves no temp, and is retried (not skipped) by the next write of the same value', async () => {
    const f = join(disk.dir, 'ipvs-owned.json');
    const { file } = owned(f);
    await file.read([]);
    await file.write(['tcp:10.0.0.1:80']);
    await disk.fill();
    const many = Array.from({ length: 2000 }, (_, i) => `tcp:10.0.${i >> 8}.${i & 255}:80`);
    await expect(file.write(many)).rejects.toThrow(new RegExp(`^${f}: ENOSPC`));
    await expect(file.write(many)).rejects.toThrow(/ENOSPC/);
    expect((await readdir(disk.dir)).sort()).toEqual(['filler', 'ipvs-owned.json']);
    expect(JSON.parse(await readFile(f, 'utf8'))).toEqual(['tcp:10.0.0.1:80']);
    await disk.free();
    expect(await file.write(many)).toBe(true);
    expect(JSON.parse(await readFile(f, 'utf8'))).toHaveLength(2000);
  });
});
