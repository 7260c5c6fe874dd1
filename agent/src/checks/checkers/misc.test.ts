import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOT_ROOT, scriptFixture } from '../../scripts/scripts.test-support.ts';
import { runCheck } from '../run-check.ts';
import { check } from '../scheduler-sim.test-support.ts';
import { createMiscCheck, judgeExit } from './misc.ts';

type Fixture = Awaited<ReturnType<typeof scriptFixture>>;
let f: Fixture;
beforeAll(async () => {
  if (!NOT_ROOT) f = await scriptFixture();
});
afterAll(() => f?.cleanup());

const run = (command: string, dynamic = false, timeoutMs = 2000, user?: string) =>
  createMiscCheck(f.launcher())(check({ type: 'misc', timeoutMs, params: { command, dynamic, ...(user ? { user } : {}) } }), AbortSignal.timeout(timeoutMs));

/** Running (a killed child re-parented to a PID 1 that does not reap shows as a zombie: dead). */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe.skipIf(NOT_ROOT)(`MISC checker running real scripts (${NOT_ROOT ?? 'root'})`, () => {
  it('exit 0 is up, exit 1 is down', async () => {
    const code = await f.write('code.sh', 'exit "$1"');
    expect(await run(`${code} 0`)).toEqual({ ok: true, detail: 'exit 0' });
    expect(await run(`${code} 1`)).toEqual({ ok: false, detail: 'exit 1' });
  });

  it('misc_dynamic: exit 2–255 is up with weight code − 2; without dynamic it is down', async () => {
    const code = await f.write('dyn.sh', 'exit "$1"');
    expect(await run(`${code} 12`, true)).toEqual({ ok: true, detail: 'exit 12: weight 10', weight: 10 });
    expect(await run(`${code} 2`, true)).toMatchObject({ ok: true, weight: 0 });
    expect(await run(`${code} 12`, false)).toEqual({ ok: false, detail: 'exit 12' });
  });

  it('kills the whole process group on timeout', async () => {
    const pids = join(f.out, 'pids');
    const s = await f.write('hang.sh', `sleep 30 & echo $$ $! > ${pids}; wait`);
    const r = await run(s, false, 400);
    expect(r).toEqual({ ok: false, detail: 'timeout after 400 ms' });
    const [shell, child] = readFileSync(pids, 'utf8').trim().split(' ').map(Number);
    await new Promise((res) => setTimeout(res, 100));
    expect(alive(shell)).toBe(false);
    expect(alive(child)).toBe(false);
  });

  it("runs as the script user by default and as the check's `user` when it names one", async () => {
    const s = await f.write('who.sh', 'test "$(id -un)" = "$1"');
    expect(await run(`${s} nobody`)).toEqual({ ok: true, detail: 'exit 0' });
    expect(await run(`${s} daemon`, false, 2000, 'daemon')).toEqual({ ok: true, detail: 'exit 0' });
    expect(await run(`${s} x`, false, 2000, 'no-such-user-x')).toEqual({ ok: false, detail: 'script user no-such-user-x does not exist on this host' });
  });

  it('a refused script is down with the refusal as its detail; without a policy every script is refused', async () => {
    expect(await run('/bin/true')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^script \/bin\/true( \(\S+\))? refused: not inside an allowed directory/),
    });
    const s = await f.write('ok.sh', 'exit 0');
    expect(await runCheck(check({ type: 'misc', params: { command: s } }), AbortSignal.timeout(2000))).toMatchObject({
      ok: false,
      detail: expect.stringContaining('no script directory is allowed on this agent'),
    });
  });
});

describe('MISC exit status', () => {
  it('a script killed by a signal is down', () => {
    expect(judgeExit(null, 'SIGSEGV', true)).toEqual({ ok: false, detail: 'killed by SIGSEGV' });
  });
});
