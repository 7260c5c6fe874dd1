import { errorText } from '../errors.ts';
import { EXIT, processIO, UsageError, type AgentIO } from './io.ts';

const USAGE = `usage:
  lvsfleet-agent run [--config FILE] [--state-dir DIR] [--dataplane linux|dry-run] [--metrics-listen ADDR:PORT] [--allow-scripts DIR]... [--script-user USER]
  lvsfleet-agent run --spec FILE --node NAME [--state-dir DIR] [--dataplane linux|dry-run] [--metrics-listen ADDR:PORT] [--allow-scripts DIR]... [--script-user USER]
  lvsfleet-agent enroll --url URL --token TOKEN [--config FILE]
  lvsfleet-agent status [--state-dir DIR | --config FILE] [-o table|json]

state dir without --state-dir: /var/lib/lvsfleet as root with --dataplane linux; otherwise
$XDG_STATE_HOME/lvsfleet (default ~/.local/state/lvsfleet), a dry run in its dry-run/ subdir.`;

// Each command's code is loaded when it runs: a bundle split at these imports parses only the
// command at hand (agent/build.mjs).
const COMMANDS: Record<string, (argv: string[], io: AgentIO) => Promise<number>> = {
  run: async (argv, io) => (await import('./run.ts')).runCommand(argv, io),
  enroll: async (argv, io) => (await import('./enroll.ts')).runEnroll(argv, io),
  status: async (argv, io) => (await import('./status.ts')).runStatus(argv, io),
};

/** Entry point of `lvsfleet-agent`; resolves to the exit code. */
export async function main(argv: string[], io: AgentIO = processIO): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    io.out(USAGE);
    return cmd ? EXIT.ok : EXIT.invalid;
  }
  const f = COMMANDS[cmd];
  if (!f) {
    io.err(`unknown command "${cmd}"\n${USAGE}`);
    return EXIT.invalid;
  }
  try {
    return await f(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${e.message}\n${USAGE}`);
      return EXIT.invalid;
    }
    io.err(`error: ${errorText(e)}`);
    return EXIT.failure;
  }
}
