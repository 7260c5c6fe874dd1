import { readFileSync } from 'node:fs';
import { UsageError } from './args.ts';
import { configPath, readConfig, tokenFilePath, type CliContext } from './cli-config.ts';
import type { GlobalFlags } from './global-flags.ts';

const DEFAULT_URL = 'http://127.0.0.1:8080';

/** The server and token a command uses, and where each came from (for error hints). */
export interface Connection {
  url: string;
  token?: string;
  /** `--url`, `LVSFLEET_URL`, `context lab` or `default`. */
  urlFrom: string;
  tokenFrom?: string;
}

/**
 * Server and token, first found wins (`lvsfleet --help`): the --url/--token flags; the context
 * --context names; LVSFLEET_URL/LVSFLEET_TOKEN; the context LVSFLEET_CONTEXT or the config
 * file's currentContext names; the default URL. The config file is read only when a context is
 * needed, so `--url`/`--token` or the variables alone never touch it.
 */
export function resolveConnection(env: Record<string, string | undefined>, flags: GlobalFlags = {}): Connection {
  const path = configPath(env);
  let loaded: { context: CliContext | null; how: string } | undefined;
  const context = (explicit: string | undefined, how: string) => {
    const cfg = readConfig(path);
    const name = explicit ?? cfg.currentContext;
    if (!name) return { context: null, how };
    const found = cfg.contexts.find((c) => c.name === name);
    if (!found)
      throw new UsageError(
        `${how} names context "${name}", which ${path} does not have (${cfg.contexts.map((c) => c.name).join(', ') || 'no contexts yet'}); see lvsfleet config set-context --help`,
      );
    return { context: found, how };
  };
  const fromFlag = flags.context !== undefined ? context(flags.context, '--context') : undefined;
  const ctxOf = () => fromFlag ?? (loaded ??= context(env.LVSFLEET_CONTEXT || undefined, env.LVSFLEET_CONTEXT ? 'LVSFLEET_CONTEXT' : 'currentContext'));

  let url: string | undefined = flags.url;
  let urlFrom = '--url';
  if (url === undefined && fromFlag?.context?.url) [url, urlFrom] = [fromFlag.context.url, `context ${fromFlag.context.name}`];
  if (url === undefined && env.LVSFLEET_URL) [url, urlFrom] = [env.LVSFLEET_URL, 'LVSFLEET_URL'];
  if (url === undefined) {
    const c = ctxOf().context;
    if (c?.url) [url, urlFrom] = [c.url, `context ${c.name}`];
  }
  if (url === undefined) [url, urlFrom] = [DEFAULT_URL, 'default'];
  if (!/^https?:\/\/[^\s/]+/.test(url)) throw new UsageError(`${urlFrom}: expected an http:// or https:// URL, not "${url}"`);

  let token: string | undefined = flags.token;
  let tokenFrom: string | undefined = token !== undefined ? '--token' : undefined;
  const fromContext = (c: CliContext | null) => {
    if (!c?.tokenFile) return;
    const file = tokenFilePath(c.tokenFile, path, env);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`context ${c.name}: cannot read its token file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const value = text.trim();
    if (!value) throw new UsageError(`context ${c.name}: its token file ${file} is empty`);
    [token, tokenFrom] = [value, `context ${c.name}`];
  };
  if (token === undefined && fromFlag) fromContext(fromFlag.context);
  if (token === undefined && env.LVSFLEET_TOKEN) [token, tokenFrom] = [env.LVSFLEET_TOKEN, 'LVSFLEET_TOKEN'];
  if (token === undefined) fromContext(ctxOf().context);
  return { url: url.replace(/\/+$/, ''), ...(token !== undefined ? { token, tokenFrom } : {}), urlFrom };
}
