import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { check } from '../scheduler-sim.test-support.ts';
import { judgeExit, miscCheck } from './misc.ts';

const dir = mkdtempSync(join(tmpdir(), 'lvsfleet-misc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (command: string, dynamic = false, timeoutMs = 2000) =>
  miscCheck(check({ type: 'misc', timeoutMs, params: { command, dynamic } }), AbortSignal.timeout(timeoutMs));

/** Running (a killed child re-parented to a PID 1 that does not reap shows as a zombie: dead). */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('MISC checker running real scripts', () => {
  it('exit 0 is up, exit 1 is down', async () => {
    expect(await run('true')).toEqual({ ok: true, detail: 'exit 0' });
    expect(await run('exit 1')).toEqual({ ok: false, detail: 'exit 1' });
  });

  it('misc_dynamic: exit 2–255 is up with weight code − 2; without dynamic it is down', async () => {
    expect(await run('exit 12', true)).toEqual({ ok: true, detail: 'exit 12: weight 10', weight: 10 });
    expect(await run('exit 2', true)).toMatchObject({ ok: true, weight: 0 });
    expect(await run('exit 12', false)).toEqual({ ok: false, detail: 'exit 12' });
  });

  it('kills the whole process group on timeout', async () => {
    const pids = join(dir, 'pids');
    const r = await run(`sleep 30 & echo $$ $! > ${pids}; wait`, false, 400);
    expect(r).toEqual({ ok: false, detail: 'timeout after 400 ms' });
    const [shell, child] = readFileSync(pids, 'utf8').trim().split(' ').map(Number);
    await new Promise((res) => setTimeout(res, 100));
    expect(alive(shell)).toBe(false);
    expect(alive(child)).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)('runs the command as `user` (root only)', async () => {
    const r = await miscCheck(check({ type: 'misc', params: { command: 'test "$(id -un)" = nobody', user: 'nobody' } }), AbortSignal.timeout(2000));
    expect(r).toEqual({ ok: true, detail: 'exit 0' });
    await expect(miscCheck(check({ type: 'misc', params: { command: 'true', user: 'no-such-user-x' } }), AbortSignal.timeout(2000))).rejects.toThrow(
      /not found/,
    );
  });

  it('a script killed by a signal is down', () => {
    expect(judgeExit(null, 'SIGSEGV', true)).toEqual({ ok: false, detail: 'killed by SIGSEGV' });
  });
});
