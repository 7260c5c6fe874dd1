import { UsageError } from './args.ts';

/** `--url`, `--token` and `--context`, taken anywhere on the command line (kubectl style). */
export interface GlobalFlags {
  url?: string;
  token?: string;
  context?: string;
}

const NAMES = ['url', 'token', 'context'] as const;

/**
 * Splits the global flags off `argv` (both `--url X` and `--url=X`, up to a `--`), leaving the
 * rest for the command. A flag the command declares itself (`config set-context --url`) is left
 * to the command. Pure.
 */
export function extractGlobalFlags(argv: readonly string[], ownFlags: ReadonlySet<string> = new Set()): { argv: string[]; flags: GlobalFlags } {
  const flags: GlobalFlags = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const m = /^--([a-z]+)(?:=(.*))?$/s.exec(a);
    const name = m && (NAMES as readonly string[]).includes(m[1]) && !ownFlags.has(m[1]) ? (m[1] as (typeof NAMES)[number]) : null;
    if (!name) {
      rest.push(a);
      continue;
    }
    let value = m![2];
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('-')) throw new UsageError(`--${name} needs a value`);
      i++;
    }
    if (!value) throw new UsageError(`--${name} needs a value`);
    if (flags[name] !== undefined) throw new UsageError(`--${name} given twice`);
    flags[name] = value;
  }
  return { argv: rest, flags };
}
