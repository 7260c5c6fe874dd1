import { COMMANDS, GLOBAL_FLAGS, type CommandSpec, type FlagSpec } from './command-table.ts';
import { VERSION } from './version.ts';

/** A summary as a sentence: capital first letter, full stop. */
const sentence = (s: string) => `${s[0].toUpperCase()}${s.slice(1)}.`;

function flagLines(flags: readonly FlagSpec[]): string[] {
  const left = flags.map((f) => `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.value ? ` ${f.value}` : ''}`);
  const width = Math.max(...left.map((l) => l.length));
  return flags.map((f, i) => `  ${left[i].padEnd(width)}  ${f.help}`);
}

/** `lvsfleet COMMAND [SUB] --help`: usage, what it does, flags, subcommands, examples. */
export function commandHelp(spec: CommandSpec, path: readonly string[]): string {
  const out = ['usage:', ...spec.usage.map((u) => `  lvsfleet ${u}`), '', `${sentence(spec.summary)}${spec.description ? ` ${spec.description}` : ''}`];
  if (spec.subcommands?.length) {
    const width = Math.max(...spec.subcommands.map((s) => s.name.length));
    out.push('', 'commands:', ...spec.subcommands.map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`));
    out.push('', `lvsfleet ${path.join(' ')} COMMAND --help tells more.`);
  }
  if (spec.flags?.length) out.push('', 'flags:', ...flagLines(spec.flags));
  out.push('', 'examples:', ...spec.examples.map((e) => `  ${e}`));
  return `${out.join('\n')}\n`;
}

/** `lvsfleet --help`: the commands, the global flags and where the server and token come from. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `lvsfleet ${VERSION}: control plane for LVS/IPVS load-balancer fleets

usage: lvsfleet <command> [options]

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

global flags:
${flagLines([...GLOBAL_FLAGS, { name: 'help', short: 'h', help: 'help of any command or subcommand' }, { name: 'version', help: 'print the version' }]).join('\n')}

Server and token, first found wins: --url and --token; --context NAME; LVSFLEET_URL and
LVSFLEET_TOKEN; LVSFLEET_CONTEXT or the current context of the config file
($XDG_CONFIG_HOME/lvsfleet/config.yaml, default ~/.config/lvsfleet/config.yaml); http://127.0.0.1:8080.
Exit codes: 0 ok, 1 runtime failure, 2 invalid input, 3 changes or problems found (diff, status with --exit-code).

examples:
  lvsfleet validate -f site.yaml
  lvsfleet --context prod status
  lvsfleet diff -f site.yaml --help
`;
}
