import { COMMANDS, GLOBAL_FLAGS, type CommandSpec, type FlagSpec } from './command-table.ts';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export function isShell(s: string | undefined): s is Shell {
  return (SHELLS as readonly string[]).includes(s ?? '');
}

const flagWords = (flags: readonly FlagSpec[]) => flags.flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]);
const allFlags = (spec: CommandSpec) => [...(spec.flags ?? []), ...GLOBAL_FLAGS, { name: 'help', short: 'h', help: 'help' }];

/** bash `case` arms completing the value after a flag: its listed values, or files (an empty reply lets `-o default` do it). */
function bashValueArms(flags: readonly FlagSpec[], indent: string): string {
  const arms = flags
    .filter((f) => f.value)
    .map((f) => {
      const pattern = [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])].join('|');
      const body = f.values ? `COMPREPLY=($(compgen -W "${f.values.join(' ')}" -- "$cur")); return ;;` : 'return ;;';
      return `${indent}${pattern}) ${body}`;
    });
  return arms.length ? `${indent.slice(2)}case "$prev" in\n${arms.join('\n')}\n${indent.slice(2)}esac\n` : '';
}

function bashCommand(c: CommandSpec): string {
  const i = '      ';
  if (c.subcommands?.length) {
    const subs = c.subcommands
      .map((s) => `${i}  ${s.name})\n${bashValueArms(allFlags(s), `${i}      `)}${i}    words="${flagWords(allFlags(s)).join(' ')}" ;;`)
      .join('\n');
    return `    ${c.name})
      if [ "$COMP_CWORD" -eq 2 ]; then words="${c.subcommands.map((s) => s.name).join(' ')} --help"; else
      case "$sub" in
${subs}
      esac
      fi ;;`;
  }
  return `    ${c.name})\n${bashValueArms(allFlags(c), `${i}  `)}${i}words="${[...(c.args ?? []), ...flagWords(allFlags(c))].join(' ')}" ;;`;
}

function bash(): string {
  return `# bash completion for lvsfleet (made by: lvsfleet completion bash)
_lvsfleet() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local cmd="\${COMP_WORDS[1]}" sub="\${COMP_WORDS[2]}" words=""
  COMPREPLY=()
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${COMMANDS.map((c) => c.name).join(' ')} --help --version" -- "$cur"))
    return
  fi
  case "$cmd" in
${COMMANDS.map(bashCommand).join('\n')}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _lvsfleet lvsfleet
`;
}

/** zsh runs the bash function through bashcompinit: one completion logic, made from one table. */
function zsh(): string {
  return `#compdef lvsfleet
# zsh completion for lvsfleet (made by: lvsfleet completion zsh)
(( $+functions[compdef] )) || { autoload -U +X compinit && compinit; }
autoload -U +X bashcompinit && bashcompinit
${bash().split('\n').slice(1).join('\n')}`;
}

const fishQuote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function fishFlags(flags: readonly FlagSpec[], condition: string): string[] {
  return flags.map((f) => {
    const parts = [`complete -c lvsfleet -n ${fishQuote(condition)} -l ${f.name}`];
    if (f.short) parts.push(`-s ${f.short}`);
    if (f.values) parts.push(`-x -a ${fishQuote(f.values.join(' '))}`);
    else if (f.value) parts.push('-r');
    parts.push(`-d ${fishQuote(f.help)}`);
    return parts.join(' ');
  });
}

function fish(): string {
  const lines = ['# fish completion for lvsfleet (made by: lvsfleet completion fish)', 'complete -c lvsfleet -f'];
  lines.push(...COMMANDS.map((c) => `complete -c lvsfleet -n __fish_use_subcommand -a ${c.name} -d ${fishQuote(c.summary)}`));
  lines.push(
    ...fishFlags([...GLOBAL_FLAGS, { name: 'version', help: 'print the version' }, { name: 'help', short: 'h', help: 'help' }], '__fish_use_subcommand'),
  );
  for (const c of COMMANDS) {
    const inCmd = `__fish_seen_subcommand_from ${c.name}`;
    if (c.subcommands?.length) {
      const names = c.subcommands.map((s) => s.name).join(' ');
      lines.push(
        ...c.subcommands.map(
          (s) => `complete -c lvsfleet -n ${fishQuote(`${inCmd}; and not __fish_seen_subcommand_from ${names}`)} -a ${s.name} -d ${fishQuote(s.summary)}`,
        ),
      );
      for (const s of c.subcommands) lines.push(...fishFlags(allFlags(s), `${inCmd}; and __fish_seen_subcommand_from ${s.name}`));
    } else {
      if (c.args?.length) lines.push(`complete -c lvsfleet -n ${fishQuote(inCmd)} -a ${fishQuote(c.args.join(' '))}`);
      lines.push(...fishFlags(allFlags(c), inCmd));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The completion script for `shell`, made from the command table (`lvsfleet completion --help`). */
export function completionScript(shell: Shell): string {
  return shell === 'bash' ? bash() : shell === 'zsh' ? zsh() : fish();
}
