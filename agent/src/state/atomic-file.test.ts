import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readJson, writeFileAtomic } from './atomic-file.ts';

describe('writeFileAtomic', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps one backup, the given mode, and no temp files', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lvsf-atomic-'));
    const f = join(dir, 'sub', 'state.json');
    await writeFileAtomic(f, '{"v":1}', { backup: true, mode: 0o600 });
    await writeFileAtomic(f, '{"v":2}', { backup: true, mode: 0o600 });
    expect(await readJson(f, null)).toEqual({ v: 2 });
    expect(await readFile(`${f}.bak`, 'utf8')).toBe('{"v":1}');
    expect((await stat(f)).mode & 0o777).toBe(0o600);
    expect((await readdir(join(dir, 'sub'))).sort()).toEqual(['state.json', 'state.json.bak']);
  });

  it('survives concurrent writes of the same file (each call has its own temp file)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lvsf-atomic-'));
    const f = join(dir, 'status.json');
    const writes = Array.from({ length: 20 }, (_, i) => writeFileAtomic(f, JSON.stringify({ i })));
    await expect(Promise.all(writes)).resolves.toHaveLength(20);
    const { i } = (await readJson(f, { i: -1 })) as { i: number };
    expect(i).toBeGreaterThanOrEqual(0);
    expect(await readdir(dir)).toEqual(['status.json']);
  });
});
