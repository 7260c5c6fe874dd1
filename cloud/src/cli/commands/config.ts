import { outputFormat, parseFlags, UsageError, withUsage } from '../args.ts';
import { checkContextName, configPath, readConfig, writeConfig, type CliContext } from '../cli-config.ts';
import type { CliIO } from '../io.ts';
import { render, table } from '../output.ts';

/**
 * `lvsfleet config get-contexts|use-context NAME|set-context NAME [--url U] [--token-file F]|current-context`:
 * the contexts of the CLI's config file (`lvsfleet config --help`).
 */
export async function run(argv: string[], io: CliIO): Promise<number> {
  return withUsage('config', io, async () => {
    const { values, positionals } = parseFlags(
      argv,
      { url: { type: 'string' }, 'token-file': { type: 'string' }, output: { type: 'string', short: 'o' } },
      true,
    );
    const [verb, name, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const path = configPath(io.env);
    const cfg = readConfig(path);
    const onlyFor = (verbs: string[], flag: string, given: unknown) => {
      if (given !== undefined && !verbs.includes(verb)) throw new UsageError(`${flag} is for config ${verbs.join(' or ')}`);
    };
    onlyFor(['set-context'], '--url', values.url);
    onlyFor(['set-context'], '--token-file', values['token-file']);
    onlyFor(['get-contexts'], '-o', values.output);
    if (verb === 'get-contexts') {
      if (name) throw new UsageError('config get-contexts takes no argument');
      // `-o name` (as kubectl's) is one name a line: what shell completion reads.
      if (values.output === 'name') {
        io.stdout(cfg.contexts.map((c) => `${c.name}\n`).join(''));
        return 0;
      }
      const format = outputFormat(values.output);
      const rows = cfg.contexts.map((c) => ({ ...c, current: c.name === cfg.currentContext }));
      io.stdout(
        render(format, rows, () =>
          rows.length
            ? table(
                ['CURRENT', 'NAME', 'URL', 'TOKEN FILE'],
                rows.map((c) => [c.current ? '*' : '', c.name, c.url, c.tokenFile]),
              )
            : `no contexts in ${path}; add one: lvsfleet config set-context NAME --url URL --token-file FILE\n`,
        ),
      );
      return 0;
    }
    if (verb === 'current-context') {
      if (name) throw new UsageError('config current-context takes no argument');
      if (!cfg.currentContext) {
        io.stderr(`lvsfleet config: no current context in ${path}\n`);
        return 1;
      }
      io.stdout(`${cfg.currentContext}\n`);
      return 0;
    }
    if (verb === 'use-context') {
      checkContextName(name);
      if (!cfg.contexts.some((c) => c.name === name))
        throw new UsageError(`no context "${name}" in ${path} (${cfg.contexts.map((c) => c.name).join(', ') || 'none yet'})`);
      writeConfig(path, { ...cfg, currentContext: name });
      io.stdout(`switched to context "${name}"\n`);
      return 0;
    }
    if (verb === 'set-context') {
      checkContextName(name);
      const url = values.url;
      if (url !== undefined && !/^https?:\/\/[^\s/]+/.test(url)) throw new UsageError(`--url: expected an http:// or https:// URL, not "${url}"`);
      if (values['token-file'] === '') throw new UsageError('--token-file needs a file name');
      const old = cfg.contexts.find((c) => c.name === name);
      const next: CliContext = {
        name,
        ...((url ?? old?.url) ? { url: url ?? old?.url } : {}),
        ...((values['token-file'] ?? old?.tokenFile) ? { tokenFile: values['token-file'] ?? old?.tokenFile } : {}),
      };
      const contexts = old ? cfg.contexts.map((c) => (c.name === name ? next : c)) : [...cfg.contexts, next];
      // The first context becomes the current one: there is nothing else it could mean.
      writeConfig(path, { currentContext: cfg.currentContext ?? name, contexts });
      io.stdout(`context "${name}" ${old ? 'changed' : 'added'} in ${path}\n`);
      return 0;
    }
    throw new UsageError(
      verb
        ? `unknown config command "${verb}" (get-contexts, use-context, set-context, current-context)`
        : 'config what? get-contexts, use-context, set-context or current-context',
    );
  });
}
