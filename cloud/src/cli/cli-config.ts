import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { yaml } from './lazy-yaml.ts';
import { UsageError } from './args.ts';

/** One server the CLI talks to: its URL and a file holding its bearer token. */
export interface CliContext {
  name: string;
  url?: string;
  tokenFile?: string;
}

/** `config.yaml` of the CLI (`lvsfleet config --help`). */
export interface CliConfig {
  currentContext?: string;
  contexts: CliContext[];
}

/** $LVSFLEET_CONFIG, else $XDG_CONFIG_HOME/lvsfleet/config.yaml, else ~/.config/lvsfleet/config.yaml (XDG Base Directory). */
export function configPath(env: Record<string, string | undefined>): string {
  if (env.LVSFLEET_CONFIG) return env.LVSFLEET_CONFIG;
  const base = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(env.HOME || '/', '.config');
  return join(base, 'lvsfleet', 'config.yaml');
}

const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** A context name the file and the shell can both carry. */
export function checkContextName(name: string | undefined): string {
  if (!name || !CONTEXT_NAME.test(name)) throw new UsageError(`a context name is letters, digits, ".", "_" and "-" (at most 63), not "${name ?? ''}"`);
  return name;
}

/** Checks a parsed config document, naming the first bad field. Pure. */
export function checkConfig(doc: unknown, path: string): CliConfig {
  const bad = (field: string, why: string) => new UsageError(`${path}: ${field}: ${why}`);
  if (doc === null || doc === undefined) return { contexts: [] };
  if (typeof doc !== 'object' || Array.isArray(doc)) throw bad('(root)', 'expected a mapping with currentContext and contexts');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (k !== 'currentContext' && k !== 'contexts') throw bad(k, 'unknown field (known: currentContext, contexts)');
  if (d.currentContext !== undefined && typeof d.currentContext !== 'string') throw bad('currentContext', 'expected a context name');
  if (d.contexts !== undefined && !Array.isArray(d.contexts)) throw bad('contexts', 'expected a list');
  const contexts = ((d.contexts as unknown[] | undefined) ?? []).map((c, i): CliContext => {
    const at = `contexts[${i}]`;
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw bad(at, 'expected a mapping with name, url and tokenFile');
    const e = c as Record<string, unknown>;
    for (const k of Object.keys(e)) if (!['name', 'url', 'tokenFile'].includes(k)) throw bad(`${at}.${k}`, 'unknown field (known: name, url, tokenFile)');
    if (typeof e.name !== 'string' || !CONTEXT_NAME.test(e.name)) throw bad(`${at}.name`, 'expected a name of letters, digits, ".", "_" and "-"');
    if (e.url !== undefined && (typeof e.url !== 'string' || !/^https?:\/\/\S+$/.test(e.url))) throw bad(`${at}.url`, 'expected an http:// or https:// URL');
    if (e.tokenFile !== undefined && (typeof e.tokenFile !== 'string' || !e.tokenFile)) throw bad(`${at}.tokenFile`, 'expected a file name');
    return { name: e.name, ...(e.url ? { url: e.url as string } : {}), ...(e.tokenFile ? { tokenFile: e.tokenFile as string } : {}) };
  });
  const names = new Set<string>();
  contexts.forEach((c, i) => {
    if (names.has(c.name)) throw bad(`contexts[${i}].name`, `"${c.name}" is listed twice`);
    names.add(c.name);
  });
  return { ...(d.currentContext ? { currentContext: d.currentContext as string } : {}), contexts };
}

/** The config file, or an empty config when there is none; a broken one is a UsageError naming the file and field. */
export function readConfig(path: string): CliConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { contexts: [] };
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = yaml().parse(text);
  } catch (err) {
    throw new UsageError(`${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  return checkConfig(doc, path);
}

/** Writes the config file whole (temporary file, then rename), mode 0600 in a 0700 directory: it names token files. */
export function writeConfig(path: string, config: CliConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, yaml().stringify(config), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** A context's token file as a path: `~/` is the home directory, a relative name is beside the config file. */
export function tokenFilePath(tokenFile: string, config: string, env: Record<string, string | undefined>): string {
  if (tokenFile === '~' || tokenFile.startsWith('~/')) return join(env.HOME || '/', tokenFile.slice(1));
  return resolve(dirname(config), tokenFile);
}
