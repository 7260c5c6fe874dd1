import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from './command-table.ts';
import { completionScript } from './completion.ts';
import { main } from './main.ts';
import { memoryIO } from './test-io.test-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'lvsfleet-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const has = (shell: string) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;

/** What bash completes for the words typed so far (the last one being completed). */
function bashComplete(words: string[]): string[] {
  const file = join(dir, 'lvsfleet.bash');
  writeFileSync(file, completionScript('bash'));
  const list = words.map((w) => `'${w}'`).join(' ');
  const script = `source ${file}; COMP_WORDS=(${list}); COMP_CWORD=${words.length - 1}; _lvsfleet; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '-c', script], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

describe('lvsfleet completion', () => {
  it('bash completes commands, subcommands, flags and flag values from the table', () => {
    expect(bashComplete(['lvsfleet', ''])).toEqual([...COMMANDS.map((c) => c.name), '--help', '--version']);
    expect(bashComplete(['lvsfleet', 'to'])).toEqual(['token']);
    expect(bashComplete(['lvsfleet', 'token', ''])).toEqual(['create', 'list', 'revoke', '--help']);
    expect(bashComplete(['lvsfleet', 'token', 'create', 'ci', '--sc'])).toEqual(['--scope']);
    expect(bashComplete(['lvsfleet', 'token', 'create', 'ci', '--scope', ''])).toEqual(['viewer', 'operator', 'admin']);
    expect(bashComplete(['lvsfleet', 'get', 's'])).toEqual(['sites', 'services']);
    expect(bashComplete(['lvsfleet', 'get', 'nodes', '-o', 'w'])).toEqual(['wide']);
    expect(bashComplete(['lvsfleet', 'diff', '--ex'])).toEqual(['--exit-code']);
    expect(bashComplete(['lvsfleet', 'status', '--con'])).toEqual(['--context']);
    // A file argument: no words, so bash's own file completion (-o default) takes over.
    expect(bashComplete(['lvsfleet', 'validate', '-f', ''])).toEqual([]);
  });

  it.skipIf(!has('zsh'))('zsh loads its script without errors (needs zsh)', () => {
    const file = join(dir, '_lvsfleet');
    writeFileSync(file, completionScript('zsh'));
    const r = spawnSync('zsh', ['-f', '-c', `source ${file} && whence -w _lvsfleet`], { encoding: 'utf8', env: { ...process.env, HOME: dir, ZDOTDIR: dir } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('_lvsfleet: function');
  });

  it.skipIf(!has('fish'))('fish loads its script without errors (needs fish)', () => {
    const file = join(dir, 'lvsfleet.fish');
    writeFileSync(file, completionScript('fish'));
    const r = spawnSync('fish', ['--no-config', '-c', `source ${file}; complete -C 'lvsfleet token create x --scope '`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').map((l) => l.split('\t')[0])).toEqual(expect.arrayContaining(['viewer', 'operator', 'admin']));
  });

  it('the fish script names every command with its summary; zsh reuses the bash logic', () => {
    const fish = completionScript('fish');
    for (const c of COMMANDS) expect(fish).toContain(`-a ${c.name} -d '${c.summary.replace(/'/g, "\\'")}'`);
    expect(completionScript('zsh')).toMatch(/^#compdef lvsfleet\n[\s\S]*bashcompinit[\s\S]*complete -o default -F _lvsfleet lvsfleet\n$/);
  });

  it('lvsfleet completion SHELL prints it; another shell exits 2', async () => {
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      const io = memoryIO({});
      expect(await main(['completion', shell], io)).toBe(0);
      expect(io.out).toBe(completionScript(shell));
    }
    const io = memoryIO({});
    expect(await main(['completion', 'tcsh'], io)).toBe(2);
    expect(io.err).toBe('lvsfleet completion: completion bash|zsh|fish\n');
  });
});
