import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad flags or arguments: the command exits 2 with this message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs in strict mode, its errors turned into UsageError (exit 2). */
export function parseFlags<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function outputFormat(value: string | undefined): OutputFormat {
  const v = value ?? 'table';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(v)) throw new UsageError(`-o must be one of ${OUTPUT_FORMATS.join(', ')}, not "${v}"`);
  return v as OutputFormat;
}

/** Runs a command body; a UsageError prints `lvsfleet NAME: message` and answers 2. */
export async function withUsage(name: string, io: { stderr: (t: string) => void }, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`lvsfleet ${name}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

const AGE_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** A flag's duration in whole seconds: `90m`, `24h`, `30d`, `2w`; a UsageError naming the flag otherwise. */
export function durationSeconds(text: string, flag: string): number {
  const m = /^(\d{1,6})(s|m|h|d|w)$/.exec(text);
  if (!m || Number(m[1]) === 0) throw new UsageError(`${flag} takes a duration like 90m, 24h, 30d or 2w, not "${text}"`);
  return Number(m[1]) * AGE_UNITS[m[2]];
}
