import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../engine/engine.test-support.ts';
import { lockNode, NodeLockedError } from './node-lock.ts';

describe('lockNode', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('holds the pid file locked with this PID in it; a second taker is refused naming the holder; release empties it and frees the lock', async () => {
    const f = join(dir, 'state', 'agent.pid');
    const lock = await lockNode(f, () => {});
    expect(await readFile(f, 'utf8')).toBe(`${process.pid}\n`);
    const e = await lockNode(f, () => {}).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(NodeLockedError);
    expect((e as NodeLockedError).pid).toBe(process.pid);
    expect((e as Error).message).toBe(`another agent (pid ${process.pid}) is running for this node`);
    await lock.release();
    await lock.release(); // twice is harmless
    expect(await readFile(f, 'utf8')).toBe('');
    const again = await lockNode(f, () => {});
    expect(await readFile(f, 'utf8')).toBe(`${process.pid}\n`);
    await again.release();
  });

  it('of several takers at the same moment exactly one wins', async () => {
    const f = join(dir, 'agent.pid');
    const r = await Promise.allSettled(Array.from({ length: 6 }, () => lockNode(f, () => {})));
    const won = r.filter((x) => x.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(r.filter((x) => x.status === 'rejected').map((x) => (x as PromiseRejectedResult).reason)).toEqual(Array(5).fill(expect.any(NodeLockedError)));
    await won[0].value.release();
  });

  it('garbage left in the pid file does not stop the lock, and is replaced', async () => {
    const f = join(dir, 'agent.pid');
    await writeFile(f, 'not a pid\n\n\n');
    const lock = await lockNode(f, () => {});
    expect(await readFile(f, 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
  });
});
