import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileOrNull, readJson, writeFileAtomic } from './atomic-file.ts';

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

  it('keeps exactly one backup, one version behind', async () => {
    const f = join(dir, 'state.json');
    for (const v of [1, 2, 3]) await writeFileAtomic(f, `{"v":${v}}`, { backup: true });
    expect(await readFile(f, 'utf8')).toBe('{"v":3}');
    expect(await readFile(`${f}.bak`, 'utf8')).toBe('{"v":2}');
    expect((await readdir(dir)).sort()).toEqual(['state.json', 'state.json.bak']);
  });

  it('concurrent writes of one file all succeed and leave one of them whole', async () => {
    const f = join(dir, 'status.json');
    const texts = Array.from({ length: 20 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(4096) }));
    await Promise.all(texts.map((t) => writeFileAtomic(f, t)));
    expect(texts).toContain(await readFile(f, 'utf8'));
    expect(await readdir(dir)).toEqual(['status.json']);
  });
});

describe('reading state', () => {
  it('an absent file is null (readFileOrNull) or the fallback (readJson); a corrupt one throws', async () => {
    const f = join(dir, 'state.json');
    expect(await readFileOrNull(f)).toBeNull();
    expect(await readJson(f, { fresh: true })).toEqual({ fresh: true });
    await writeFile(f, '{"v":');
    await expect(readJson(f, {})).rejects.toThrow(SyntaxError);
  });
});
