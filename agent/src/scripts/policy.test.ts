import { describe, expect, it } from 'vitest';
import { chooseUser, defaultScriptUser, isInside, judgeScript, pathChain, splitCommand, type PathFacts, type ScriptPolicy } from './policy.ts';

const policy: ScriptPolicy = { allowDirs: ['/etc/lvsfleet/scripts'], user: 'nobody', rootAllowed: false };
const dir = (path: string, over: Partial<PathFacts> = {}): PathFacts => ({ path, uid: 0, gid: 0, mode: 0o40755, isDirectory: true, isFile: false, ...over });
const file = (path: string, over: Partial<PathFacts> = {}): PathFacts => ({ path, uid: 0, gid: 0, mode: 0o100755, isDirectory: false, isFile: true, ...over });
const SCRIPT = '/etc/lvsfleet/scripts/check.sh';
const chain = (over: Record<string, Partial<PathFacts>> = {}): PathFacts[] => pathChain(SCRIPT).map((p) => (p === SCRIPT ? file(p, over[p]) : dir(p, over[p])));

describe('splitCommand (keepalived word splitting, no shell)', () => {
  it('splits on blanks and honours quotes and backslashes', () => {
    expect(splitCommand(`/s/check.sh  a 'b c' "d \\"e\\"" f\\ g ''`)).toEqual({ ok: true, argv: ['/s/check.sh', 'a', 'b c', 'd "e"', 'f g', ''] });
  });

  it('keeps shell syntax as plain words: `;` and `$(…)` are arguments, not commands', () => {
    expect(splitCommand('/s/check.sh; rm -rf / $(id)')).toEqual({ ok: true, argv: ['/s/check.sh;', 'rm', '-rf', '/', '$(id)'] });
  });

  it('refuses an empty line, an open quote and a newline', () => {
    expect(splitCommand('   ')).toMatchObject({ ok: false, refusal: { reason: 'empty' } });
    expect(splitCommand("/s/x 'open")).toMatchObject({ ok: false, refusal: { reason: 'syntax', detail: expect.stringContaining("unterminated ' quote") } });
    expect(splitCommand('/s/x\n/s/y')).toMatchObject({ ok: false, refusal: { reason: 'syntax', detail: expect.stringContaining('\\x0a') } });
  });
});

describe('pathChain and isInside', () => {
  it('lists / and every directory down to the file', () => {
    expect(pathChain('/a/b/c')).toEqual(['/', '/a', '/a/b', '/a/b/c']);
  });

  it('is inside the directory itself or below it, not a sibling with the same prefix', () => {
    expect(isInside('/etc/s/x', '/etc/s')).toBe(true);
    expect(isInside('/etc/scripts-evil/x', '/etc/s')).toBe(false);
    expect(isInside('/etc/s-x', '/etc/s')).toBe(false);
    expect(isInside('/anything', '/')).toBe(true);
  });
});

describe('judgeScript (keepalived enable_script_security)', () => {
  it('allows a root-owned script in an allowed, root-owned directory tree', () => {
    expect(judgeScript(SCRIPT, SCRIPT, chain(), policy)).toBeNull();
  });

  it('refuses everything when no directory is allowed, naming the flag', () => {
    expect(judgeScript(SCRIPT, SCRIPT, chain(), { ...policy, allowDirs: [] })).toMatchObject({
      reason: 'outside_allowed',
      detail: expect.stringContaining('--allow-scripts'),
    });
  });

  it('refuses a script outside the allowed directories, naming it and where it really is', () => {
    const r = judgeScript(
      '/etc/lvsfleet/scripts/link',
      '/usr/bin/sh',
      pathChain('/usr/bin/sh').map((p) => dir(p)),
      policy,
    );
    expect(r).toMatchObject({ reason: 'outside_allowed', detail: expect.stringMatching(/^script \/etc\/lvsfleet\/scripts\/link \(\/usr\/bin\/sh\) refused/) });
  });

  it('refuses a world-writable script', () => {
    expect(judgeScript(SCRIPT, SCRIPT, chain({ [SCRIPT]: { mode: 0o100757 } }), policy)).toMatchObject({
      reason: 'unsafe_permissions',
      detail: expect.stringContaining(`${SCRIPT} is world-writable`),
    });
  });

  it('refuses a script whose parent directory a non-root user owns or a non-root group may write', () => {
    expect(judgeScript(SCRIPT, SCRIPT, chain({ '/etc/lvsfleet': { uid: 1000 } }), policy)).toMatchObject({
      reason: 'unsafe_permissions',
      detail: expect.stringContaining('/etc/lvsfleet is owned by uid 1000'),
    });
    expect(judgeScript(SCRIPT, SCRIPT, chain({ '/etc': { mode: 0o40775, gid: 50 } }), policy)).toMatchObject({
      detail: expect.stringContaining('/etc is writable by group 50'),
    });
    // Group-writable by root's group is root's own business, as in keepalived.
    expect(judgeScript(SCRIPT, SCRIPT, chain({ '/etc': { mode: 0o40775, gid: 0 } }), policy)).toBeNull();
  });

  it('refuses a directory named as the script', () => {
    expect(judgeScript(SCRIPT, SCRIPT, [...chain().slice(0, -1), dir(SCRIPT)], policy)).toMatchObject({ reason: 'not_a_file' });
  });
});

describe('chooseUser and the default script user', () => {
  const uids: Record<string, number> = { root: 0, nobody: 65534, app: 1000 };
  const uidOf = (u: string) => uids[u] ?? null;

  it("uses the spec's user, else the policy's", () => {
    expect(chooseUser('app', policy, uidOf)).toEqual({ user: 'app', refusal: null });
    expect(chooseUser(null, policy, uidOf)).toEqual({ user: 'nobody', refusal: null });
  });

  it('refuses root unless the agent itself chose it, and refuses unknown users', () => {
    expect(chooseUser('root', policy, uidOf).refusal).toMatchObject({ reason: 'root_refused' });
    expect(chooseUser('root', { ...policy, user: 'root', rootAllowed: true }, uidOf).refusal).toBeNull();
    expect(chooseUser('ghost', policy, uidOf).refusal).toMatchObject({ reason: 'unknown_user', detail: 'script user ghost does not exist on this host' });
  });

  it('defaults to keepalived_script when the host has it, else nobody', () => {
    expect(defaultScriptUser((u) => u === 'keepalived_script')).toBe('keepalived_script');
    expect(defaultScriptUser(() => false)).toBe('nobody');
  });
});
