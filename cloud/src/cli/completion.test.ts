import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from './command-table.ts';
import { completionScript } from './completion.ts';
import { main } from './main.ts';
import { memoryIO } from './test-io.test-support.ts';

const root = join(import.meta.dirname, '..', '..', '..');
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

  // Real zsh on a pty (zsh/zpty), its own compinit, TAB pressed after the words: what the user sees.
  it.skipIf(!has('zsh'))(
    'zsh completes natively: commands, subcommands, flags, flag values, contexts (needs zsh)',
    () => {
      writeFileSync(join(dir, '_lvsfleet'), completionScript('zsh'));
      // `--context` completes from `lvsfleet config get-contexts -o name`: the real CLI on PATH.
      const bin = join(dir, 'bin');
      mkdirSync(bin, { recursive: true });
      writeFileSync(join(bin, 'lvsfleet'), `#!/bin/sh\nexec "${process.execPath}" "${join(root, 'bin', 'lvsfleet.mjs')}" "$@"\n`, { mode: 0o755 });
      const env = { ...process.env, HOME: dir, ZDOTDIR: dir, XDG_CONFIG_HOME: join(dir, 'config'), PATH: `${bin}:${process.env.PATH}` };
      for (const ctx of ['lab', 'prod'])
        spawnSync(join(bin, 'lvsfleet'), ['config', 'set-context', ctx, '--url', 'http://127.0.0.1:47009', '--token-file', join(dir, 't')], { env });
      const zshComplete = (line: string): string[] => {
        const out = join(dir, 'zsh-matches');
        const r = spawnSync('zsh', ['-f', join(import.meta.dirname, 'zsh-capture.test-support.zsh'), dir, out, line], { encoding: 'utf8', env });
        expect(r.status, `zsh completion of "${line}" did not finish: ${r.stderr}`).toBe(0);
        const lines = readFileSync(out, 'utf8').split('\n');
        return [...new Set(lines.filter((l) => l && l !== 'CAPTURE-DONE'))].sort();
      };
      expect(zshComplete('lvsfleet ')).toEqual(COMMANDS.map((c) => c.name).sort());
      expect(zshComplete('lvsfleet to')).toEqual(['token']);
      expect(zshComplete('lvsfleet token ')).toEqual(['create', 'list', 'revoke']);
      expect(zshComplete('lvsfleet token create ci --sc')).toEqual(['--scope']);
      expect(zshComplete('lvsfleet token create ci --scope ')).toEqual(['admin', 'operator', 'viewer']);
      expect(zshComplete('lvsfleet get s')).toEqual(['services', 'sites']);
      expect(zshComplete('lvsfleet get nodes -o w')).toEqual(['wide']);
      expect(zshComplete('lvsfleet diff --ex')).toEqual(['--exit-code']);
      expect(zshComplete('lvsfleet status --context ')).toEqual(['lab', 'prod']);
      expect(zshComplete('lvsfleet --v')).toEqual(['--version']);
    },
    120_000,
  );

  it.skipIf(!has('fish'))('fish loads its script without errors (needs fish)', () => {
    const file = join(dir, 'lvsfleet.fish');
    writeFileSync(file, completionScript('fish'));
    const r = spawnSync('fish', ['--no-config', '-c', `source ${file}; complete -C 'lvsfleet token create x --scope '`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').map((l) => l.split('\t')[0])).toEqual(expect.arrayContaining(['viewer', 'operator', 'admin']));
  });

  it('the fish script names every command with its summary; zsh is native', () => {
    const fish = completionScript('fish');
    for (const c of COMMANDS) expect(fish).toContain(`-a ${c.name} -d '${c.summary.replace(/'/g, "\\'")}'`);
    expect(completionScript('zsh')).toMatch(/^#compdef lvsfleet\n[\s\S]*_arguments[\s\S]*compdef _lvsfleet lvsfleet\nfi\n$/);
    expect(completionScript('zsh')).not.toContain('bashcompinit');
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
