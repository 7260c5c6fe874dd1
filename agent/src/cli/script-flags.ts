import { readFileSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { defaultScriptUser, type ScriptPolicy } from '../scripts/policy.ts';
import { UsageError } from './io.ts';

/** Users of the host's /etc/passwd (names only; the launcher reads the ids when it runs a script). */
function localUsers(file: string): Set<string> {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // no passwd file: no user exists, and the flags below say so
  }
  return new Set(
    text
      .split('\n')
      .map((l) => l.split(':')[0])
      .filter(Boolean),
  );
}

/** Where the values came from, for the error messages: the flags' names, or the config file's fields. */
export interface ScriptSettingNames {
  allow: string;
  user: string;
}
const FLAGS: ScriptSettingNames = { allow: '--allow-scripts', user: '--script-user' };

/**
 * The script policy from `--allow-scripts DIR` (repeatable; each an existing directory, kept as its
 * real path) and `--script-user USER` (default keepalived's: `keepalived_script` if it exists, else
 * `nobody`; root only when named here), or the same from the config file. Bad values are a
 * UsageError naming the flag or field (exit 2).
 */
export async function scriptPolicyFromFlags(
  allow: string[] | undefined,
  user: string | undefined,
  passwdFile = '/etc/passwd',
  names: ScriptSettingNames = FLAGS,
): Promise<ScriptPolicy> {
  const allowDirs: string[] = [];
  for (const dir of allow ?? []) {
    if (!dir.startsWith('/')) throw new UsageError(`${names.allow}: expected an absolute directory, got "${dir}"`);
    const real = await realpath(dir).catch(() => null);
    if (!real || !(await stat(real)).isDirectory()) throw new UsageError(`${names.allow}: ${dir} is not an existing directory`);
    allowDirs.push(real);
  }
  const users = localUsers(passwdFile);
  if (user !== undefined && !users.has(user)) throw new UsageError(`${names.user}: no user "${user}" in ${passwdFile}`);
  const chosen = user ?? defaultScriptUser((u) => users.has(u));
  return { allowDirs, user: chosen, rootAllowed: user !== undefined && user === 'root' };
}
