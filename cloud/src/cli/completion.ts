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

/** A zsh single-quoted word. */
const zq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** Text inside an `_arguments` description bracket or message: `]`, `:` and `\` are special there. */
const zdesc = (s: string) => s.replace(/\\/g, '\\\\').replace(/\]/g, '\\]').replace(/:/g, '\\:');

/** The action completing a flag's value: its listed values, files, a context name, or only a message. */
function zshValueAction(f: FlagSpec): string {
  if (f.values) return `(${f.values.join(' ')})`;
  if (f.name === 'context') return '_lvsfleet_contexts';
  if (/FILE|DIR/.test(f.value ?? '')) return f.value === 'DIR' ? '_files -/' : '_files';
  return ' ';
}

/** `_arguments` specs of a command's flags: `--name=[help]:VALUE:action`, `-s+[…]` for the short form. */
function zshFlagSpecs(flags: readonly FlagSpec[]): string[] {
  return flags.flatMap((f) => {
    const help = zdesc(f.help);
    const value = f.value ? `:${zdesc(f.value)}:${zshValueAction(f)}` : '';
    const long = `--${f.name}${f.value ? '=' : ''}[${help}]${value}`;
    const short = f.short ? [`-${f.short}${f.value ? '+' : ''}[${help}]${value}`] : [];
    return [long, ...short].map(zq);
  });
}

/** `_arguments` for a command without subcommands: its flags, then its first-argument words or files. */
function zshLeaf(c: CommandSpec, indent: string): string {
  const positional = c.args?.length ? [zq(`1:${c.name}:(${c.args.join(' ')})`), zq('*: :_files')] : [zq('*: :_files')];
  return `${indent}_arguments -s -S ${[...zshFlagSpecs(allFlags(c)), ...positional].join(' \\\n' + indent + '  ')} && ret=0`;
}

const zshDescribe = (items: readonly CommandSpec[]) => items.map((c) => zq(`${c.name}:${c.summary.replace(/:/g, '\\:')}`)).join(' ');

function zshCommand(c: CommandSpec): string {
  if (!c.subcommands?.length) return `    ${c.name})\n${zshLeaf(c, '      ')} ;;`;
  const subs = c.subcommands.map((s) => `          ${s.name})\n${zshLeaf(s, '            ')} ;;`).join('\n');
  return `    ${c.name})
      if (( CURRENT == 2 )); then
        local -a subs=(${zshDescribe(c.subcommands)})
        _describe -t commands ${zq(`lvsfleet ${c.name} command`)} subs && ret=0
      else
        curcontext="\${curcontext%:*}-\${words[2]}:"
        shift words; (( CURRENT-- ))
        case $words[1] in
${subs}
        esac
      fi ;;`;
}

/**
 * A native zsh completion (`_arguments`/`_describe`, with each flag's help shown beside it), made
 * from the same table as bash's; `--context` completes the names `lvsfleet config get-contexts`
 * prints.
 */
function zsh(): string {
  return `#compdef lvsfleet
# zsh completion for lvsfleet (made by: lvsfleet completion zsh)

_lvsfleet_contexts() {
  local -a names
  names=(\${(f)"$(lvsfleet config get-contexts -o name 2>/dev/null)"})
  _describe -t contexts 'context' names
}

_lvsfleet() {
  local curcontext="$curcontext" state line ret=1
  typeset -A opt_args
  _arguments -C ${zshFlagSpecs([...GLOBAL_FLAGS, { name: 'version', help: 'print the version' }, { name: 'help', short: 'h', help: 'help' }]).join(' ')} \\
    '1: :->command' '*:: :->args' && ret=0
  case $state in
    command)
      local -a cmds=(${zshDescribe(COMMANDS)})
      _describe -t commands 'lvsfleet command' cmds && ret=0 ;;
    args)
      curcontext="\${curcontext%:*:*}:lvsfleet-$words[1]:"
      case $words[1] in
${COMMANDS.map(zshCommand).join('\n')}
      esac ;;
  esac
  return ret
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _lvsfleet "$@"
else
  compdef _lvsfleet lvsfleet
fi
`;
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
