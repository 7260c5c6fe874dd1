/**
 * Script security, keepalived's `enable_script_security` / `script_user`: what the agent may run
 * for a spec (misc checks, vrrp track scripts, notify and quorum hooks), decided without touching
 * the host. The shell (`launcher.ts`) gathers the facts (the resolved path, the owner and mode of
 * it and of every directory above it) and runs what this allows.
 */

/** Where scripts may live and whom they run as, from the agent's flags. */
export interface ScriptPolicy {
  /** Real paths (symlinks resolved) of the directories scripts may be run from; empty = none. */
  allowDirs: string[];
  /** The default user scripts run as (keepalived `script_user`). */
  user: string;
  /** Whether uid 0 may be chosen, by the agent's own flag (a spec's `user: root` is refused otherwise). */
  rootAllowed: boolean;
}

/** No directory allowed: every script is refused (the agent's policy until flags say otherwise). */
export const NO_SCRIPTS: ScriptPolicy = { allowDirs: [], user: 'nobody', rootAllowed: false };

/** Owner, group and permission bits of one path component (from lstat after realpath). */
export interface PathFacts {
  path: string;
  uid: number;
  gid: number;
  mode: number;
  isDirectory: boolean;
  isFile: boolean;
}

export type ScriptRefusal =
  | { reason: 'empty'; detail: string }
  | { reason: 'syntax'; detail: string }
  | { reason: 'not_absolute'; detail: string }
  | { reason: 'missing'; detail: string }
  | { reason: 'outside_allowed'; detail: string }
  | { reason: 'unsafe_permissions'; detail: string }
  | { reason: 'not_a_file'; detail: string }
  | { reason: 'root_refused'; detail: string }
  | { reason: 'unknown_user'; detail: string }
  | { reason: 'not_permitted'; detail: string };

const S_IWGRP = 0o020;
const S_IWOTH = 0o002;

/**
 * keepalived's word splitting of a script line: words separated by blanks, `'…'` literal, `"…"`
 * with `\"` and `\\`, a backslash outside quotes escapes the next character. No variables, globs,
 * pipes or `;`: the words are exec'd as they are, never given to a shell, so the allowed-directory
 * rule cannot be walked around with `/allowed/x; rm -rf /`.
 */
export function splitCommand(line: string): { ok: true; argv: string[] } | { ok: false; refusal: ScriptRefusal } {
  const argv: string[] = [];
  let word: string | null = null;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
      else word += c;
    } else if (c === ' ' || c === '\t') {
      if (word !== null) argv.push(word);
      word = null;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else if (c === '\n' || c === '\r' || c === '\0') {
      return { ok: false, refusal: { reason: 'syntax', detail: `script "${printable(line)}": control character in the command line` } };
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) return { ok: false, refusal: { reason: 'syntax', detail: `script "${printable(line)}": unterminated ${quote} quote` } };
  if (word !== null) argv.push(word);
  if (argv.length === 0) return { ok: false, refusal: { reason: 'empty', detail: 'script: empty command line' } };
  return { ok: true, argv };
}

/** Parent directories of an absolute path, outermost first, then the path itself: /a/b/c → /, /a, /a/b, /a/b/c. */
export function pathChain(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return ['/', ...parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`)];
}

/** True when `path` is `dir` or inside it (both real, absolute, without trailing slashes except `/`). */
export function isInside(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}

/**
 * keepalived's check_script_secure: a component is unsafe when a user other than root could change
 * it — owned by a non-root user, world-writable, or group-writable with a non-root group. Checked
 * for the file and every directory above it, so nobody but root can swap the script for another.
 */
function unsafeComponent(chain: PathFacts[]): PathFacts | null {
  return chain.find((f) => f.uid !== 0 || (f.mode & S_IWOTH) !== 0 || ((f.mode & S_IWGRP) !== 0 && f.gid !== 0)) ?? null;
}

/**
 * May the script at `real` (its realpath; `chain` = facts of pathChain(real), outermost first) run?
 * `named` is the path as the spec wrote it, for the message.
 */
export function judgeScript(named: string, real: string, chain: PathFacts[], policy: ScriptPolicy): ScriptRefusal | null {
  if (policy.allowDirs.length === 0)
    return { reason: 'outside_allowed', detail: `script ${named} refused: no script directory is allowed on this agent (run it with --allow-scripts DIR)` };
  if (!policy.allowDirs.some((d) => isInside(real, d)))
    return {
      reason: 'outside_allowed',
      detail: `script ${named}${real !== named ? ` (${real})` : ''} refused: not inside an allowed directory (${policy.allowDirs.join(', ')})`,
    };
  const self = chain[chain.length - 1];
  if (!self?.isFile) return { reason: 'not_a_file', detail: `script ${named} refused: not a regular file` };
  const bad = unsafeComponent(chain);
  if (bad) {
    const why = bad.uid !== 0 ? `owned by uid ${bad.uid}` : (bad.mode & S_IWOTH) !== 0 ? 'world-writable' : `writable by group ${bad.gid}`;
    return { reason: 'unsafe_permissions', detail: `script ${named} refused: ${bad.path} is ${why} (a non-root user could replace the script)` };
  }
  return null;
}

/**
 * The user a script runs as: the spec's own `user` if it names one (keepalived's per-script
 * `user`), else the agent's default. uid 0 only when the agent's own flag chose root.
 */
export function chooseUser(
  specUser: string | null | undefined,
  policy: ScriptPolicy,
  uidOf: (user: string) => number | null,
): { user: string; refusal: ScriptRefusal | null } {
  const user = specUser ?? policy.user;
  const uid = uidOf(user);
  if (uid === null) return { user, refusal: { reason: 'unknown_user', detail: `script user ${user} does not exist on this host` } };
  if (uid === 0 && !policy.rootAllowed)
    return { user, refusal: { reason: 'root_refused', detail: `script user ${user} is root; only the agent's --script-user root may run scripts as root` } };
  return { user, refusal: null };
}

/** keepalived's default script_user: `keepalived_script` when the host has it, else `nobody`. */
export function defaultScriptUser(exists: (user: string) => boolean): string {
  return exists('keepalived_script') ? 'keepalived_script' : 'nobody';
}

/** A command line as it may appear in a log line: control characters shown as `\xNN`. */
function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
