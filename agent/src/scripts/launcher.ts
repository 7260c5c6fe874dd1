import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { lstat, readFile, realpath } from 'node:fs/promises';
import { chooseUser, judgeScript, pathChain, splitCommand, type PathFacts, type ScriptPolicy, type ScriptRefusal } from './policy.ts';

/** The only variable a script inherits: the agent's own environment may hold secrets (broker password files, tokens). */
const SCRIPT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface LaunchOptions {
  /** The spec's per-script user (keepalived's `user`), else the policy's default. */
  user?: string | null;
  /** Arguments appended to the command line's own (keepalived's notify arguments). */
  args?: string[];
  /** Own process group, so a timeout can kill everything the script started. */
  detached?: boolean;
  stdio?: StdioOptions;
}

export type Launch = { ok: true; child: ChildProcess; user: string } | { ok: false; refusal: ScriptRefusal };

interface PasswdEntry {
  uid: number;
  gid: number;
}

/** Reads /etc/passwd (small; read per launch so a user added later is seen without a restart). */
async function passwd(file: string): Promise<Map<string, PasswdEntry>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const users = new Map<string, PasswdEntry>();
  for (const line of text.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name && /^\d+$/.test(uid ?? '') && /^\d+$/.test(gid ?? '')) users.set(name, { uid: Number(uid), gid: Number(gid) });
  }
  return users;
}

/**
 * Runs the spec's scripts under the agent's script policy (keepalived `enable_script_security`):
 * the command line is split into words and exec'd without a shell, only when its program resolves
 * inside an allowed directory and nobody but root can change it or any directory above it, as the
 * script user (never root unless the agent was told so), with nothing of the agent's environment
 * but PATH. A refusal is logged and reported (`onRefused`) once per command until it runs again.
 */
export class ScriptLauncher {
  private readonly refused = new Set<string>();

  constructor(
    readonly policy: ScriptPolicy,
    private readonly o: { onRefused?: (command: string, refusal: ScriptRefusal) => void; passwdFile?: string } = {},
  ) {}

  async launch(command: string, opts: LaunchOptions = {}): Promise<Launch> {
    const r = await this.resolve(command, opts.user);
    if (!r.ok) {
      const key = `${command}\0${r.refusal.reason}`;
      if (!this.refused.has(key)) {
        this.refused.add(key);
        this.o.onRefused?.(command, r.refusal);
      }
      return r;
    }
    for (const k of [...this.refused]) if (k.startsWith(`${command}\0`)) this.refused.delete(k);
    const ids = r.ids;
    const child = spawn(r.file, [...r.argv.slice(1), ...(opts.args ?? [])], {
      argv0: r.argv[0],
      detached: opts.detached ?? false,
      stdio: opts.stdio ?? 'ignore',
      env: { PATH: SCRIPT_PATH },
      cwd: '/',
      ...(ids ?? {}),
    });
    return { ok: true, child, user: r.user };
  }

  private async resolve(
    command: string,
    specUser: string | null | undefined,
  ): Promise<{ ok: true; file: string; argv: string[]; user: string; ids: PasswdEntry | null } | { ok: false; refusal: ScriptRefusal }> {
    const words = splitCommand(command);
    if (!words.ok) return words;
    const named = words.argv[0];
    if (!named.startsWith('/'))
      return {
        ok: false,
        refusal: { reason: 'not_absolute', detail: `script ${named} refused: the program must be an absolute path inside an allowed directory` },
      };
    let real: string;
    try {
      real = await realpath(named);
    } catch (e) {
      return { ok: false, refusal: { reason: 'missing', detail: `script ${named} refused: ${(e as NodeJS.ErrnoException).code ?? String(e)}` } };
    }
    const chain: PathFacts[] = [];
    for (const path of pathChain(real)) {
      const s = await lstat(path).catch(() => null);
      if (!s) return { ok: false, refusal: { reason: 'missing', detail: `script ${named} refused: ${path} vanished` } };
      chain.push({ path, uid: s.uid, gid: s.gid, mode: s.mode, isDirectory: s.isDirectory(), isFile: s.isFile() });
    }
    const bad = judgeScript(named, real, chain, this.policy);
    if (bad) return { ok: false, refusal: bad };
    const users = await passwd(this.o.passwdFile ?? '/etc/passwd');
    const chosen = chooseUser(specUser, this.policy, (u) => users.get(u)?.uid ?? null);
    if (chosen.refusal) return { ok: false, refusal: chosen.refusal };
    const target = users.get(chosen.user)!;
    const self = process.getuid?.() ?? 0;
    if (self === target.uid) return { ok: true, file: real, argv: words.argv, user: chosen.user, ids: null };
    if (self !== 0)
      return {
        ok: false,
        refusal: { reason: 'not_permitted', detail: `script ${named} refused: running it as ${chosen.user} needs the agent to run as root` },
      };
    // libuv drops supplementary groups (setgroups 0) before setgid/setuid, so root's groups do not leak.
    return { ok: true, file: real, argv: words.argv, user: chosen.user, ids: target };
  }
}
