/**
 * `lvsfleet` CLI entry. The commands, their help and their completion are one table
 * (./command-table.ts); each command's code lives in ./commands/NAME.ts and exports
 * `run(argv, io): Promise<number>` returning the exit code (0 ok, 1 runtime failure, 2 bad input,
 * 3 changes or problems found where a command documents it).
 */
import { UsageError } from './args.ts';
import { findCommand } from './command-table.ts';
import { extractGlobalFlags } from './global-flags.ts';
import { commandHelp, mainHelp } from './help.ts';
import type { CliIO } from './io.ts';
import { defaultIO } from './io.ts';
import { terminalIO } from './terminal.ts';
import { VERSION } from './version.ts';

/** `-h`/`--help` anywhere before a `--`. */
const wantsHelp = (argv: readonly string[]) => {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '-h' || a === '--help');
};

export async function main(argv: string[], rawIO: CliIO = defaultIO()): Promise<number> {
  // Every command prints through one filter: API answers carry text nodes wrote.
  const io = terminalIO(rawIO);
  // Global flags may come before the command: `lvsfleet --context prod status`.
  let lead = 0;
  while (lead < argv.length && argv[lead].startsWith('--') && ['--url', '--token', '--context'].includes(argv[lead].split('=')[0]))
    lead += argv[lead].includes('=') ? 1 : 2;
  const name = argv[lead];
  if (name === '--version' || name === 'version') {
    io.stdout(`lvsfleet ${VERSION}\n`);
    return 0;
  }
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    const topic = name === 'help' ? findCommand(argv.slice(lead + 1)) : null;
    io.stdout(topic ? commandHelp(topic.spec, topic.path) : mainHelp());
    return name ? 0 : 2;
  }
  const found = findCommand(argv.slice(lead));
  if (!found) {
    io.stderr(`lvsfleet: unknown command "${name}"; lvsfleet --help lists them\n`);
    return 2;
  }
  const rest = [...argv.slice(0, lead), ...argv.slice(lead + 1)];
  if (wantsHelp(rest)) {
    io.stdout(commandHelp(found.spec, found.path));
    return 0;
  }
  const top = findCommand([name])!.spec;
  try {
    const own = new Set((found.spec.flags ?? []).map((f) => f.name));
    const { argv: commandArgv, flags } = extractGlobalFlags(rest, own);
    const mod = await top.load!();
    return await mod.run(commandArgv, { ...io, globals: flags });
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`lvsfleet ${name}: ${err.message}\n`);
      return 2;
    }
    io.stderr(`lvsfleet ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
