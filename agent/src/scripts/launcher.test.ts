import { chmod, chown, mkdir, readFile, realpath, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Launch } from './launcher.ts';
import type { ScriptRefusal } from './policy.ts';
import { NOT_ROOT, scriptFixture } from './scripts.test-support.ts';

type Fixture = Awaited<ReturnType<typeof scriptFixture>>;
let f: Fixture;
beforeAll(async () => {
  if (!NOT_ROOT) f = await scriptFixture();
});
afterAll(() => f?.cleanup());

/** Exit code of a launched script (null when refused). */
async function exitOf(l: Launch): Promise<number | null> {
  if (!l.ok) return null;
  return new Promise((resolve) => l.child.once('exit', (code) => resolve(code)));
}

describe.skipIf(NOT_ROOT)(`script launcher on this host (${NOT_ROOT ?? 'root'})`, () => {
  it('runs an allowed script as the script user, with its arguments and without a shell around it', async () => {
    const s = await f.write('whoami.sh', `id -un > ${f.out}/who; printf '%s|' "$@" > ${f.out}/args`);
    const l = await f.launcher().launch(`${s} 'a b' ';' '$(id)'`, { args: ['MASTER'] });
    expect(l).toMatchObject({ ok: true, user: 'nobody' });
    expect(await exitOf(l)).toBe(0);
    expect((await readFile(join(f.out, 'who'), 'utf8')).trim()).toBe('nobody');
    expect(await readFile(join(f.out, 'args'), 'utf8')).toBe('a b|;|$(id)|MASTER|');
  });

  it('gives the script nothing of the agent environment but PATH', async () => {
    process.env.LVSFLEET_TEST_SECRET = 'hunter2';
    try {
      const s = await f.write('env.sh', `env > ${f.out}/env`);
      expect(await exitOf(await f.launcher().launch(s))).toBe(0);
      const env = await readFile(join(f.out, 'env'), 'utf8');
      expect(env).not.toContain('hunter2');
      expect(env).toMatch(/^PATH=/m);
    } finally {
      delete process.env.LVSFLEET_TEST_SECRET;
    }
  });

  it('as the default user a script cannot write where only root may', async () => {
    const s = await f.write('root.sh', `touch ${f.dir}/written-by-script`);
    expect(await exitOf(await f.launcher().launch(s))).not.toBe(0);
    await expect(readFile(join(f.dir, 'written-by-script'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses a program outside the allowed directories (a bare name, another dir, a symlink out), once per command', async () => {
    const refused: [string, ScriptRefusal][] = [];
    const launcher = f.launcher({}, refused);
    expect(await launcher.launch('true')).toMatchObject({ ok: false, refusal: { reason: 'not_absolute' } });
    expect(await launcher.launch('/bin/true')).toMatchObject({ ok: false, refusal: { reason: 'outside_allowed' } });
    await symlink('/bin/sh', join(f.dir, 'sh-link'));
    const viaLink = await launcher.launch(`${f.dir}/sh-link -c id`);
    expect(viaLink).toMatchObject({ ok: false, refusal: { reason: 'outside_allowed', detail: expect.stringContaining(`(${await realpath('/bin/sh')})`) } });
    await launcher.launch('/bin/true');
    expect(refused.map(([c, r]) => `${c}: ${r.reason}`)).toEqual([
      'true: not_absolute',
      '/bin/true: outside_allowed',
      `${f.dir}/sh-link -c id: outside_allowed`,
    ]);
  });

  it('refuses a world-writable script and one in a directory a non-root user owns', async () => {
    const ww = await f.write('ww.sh', 'exit 0', 0o757);
    expect(await f.launcher().launch(ww)).toMatchObject({
      ok: false,
      refusal: { reason: 'unsafe_permissions', detail: expect.stringContaining('world-writable') },
    });
    const sub = join(f.dir, 'user-owned');
    await mkdir(sub);
    await chown(sub, 65534, 65534);
    await writeFile(join(sub, 'x.sh'), '#!/bin/sh\nexit 0\n');
    await chmod(join(sub, 'x.sh'), 0o755);
    expect(await f.launcher().launch(join(sub, 'x.sh'))).toMatchObject({
      ok: false,
      refusal: { reason: 'unsafe_permissions', detail: expect.stringContaining(`${sub} is owned by uid 65534`) },
    });
  });

  it('runs as root only when the agent chose root, never because the spec asked', async () => {
    const s = await f.write('uid.sh', 'test "$(id -u)" = 0');
    expect(await f.launcher().launch(s, { user: 'root' })).toMatchObject({ ok: false, refusal: { reason: 'root_refused' } });
    const asRoot = await f.launcher({ user: 'root', rootAllowed: true }).launch(s);
    expect(await exitOf(asRoot)).toBe(0);
  });
});
