import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from './args.ts';
import type { CliIO } from './io.ts';

/**
 * A connection string or password from, in order: the flag (`--database-url`), a file named by
 * `--database-url-file` (a secrets mount, mode 0600; one trailing newline dropped) or an
 * environment variable (`LVSFLEET_DATABASE_URL`). A value on the command line sits in
 * /proc/PID/cmdline and `ps` for every local user to read, so the file and the variable are the
 * ways the README shows.
 */
export function secretOption(io: CliIO, name: string, o: { flag?: string; file?: string; env: string }): string | undefined {
  const given = [o.flag !== undefined && `--${name}`, o.file !== undefined && `--${name}-file`].filter(Boolean);
  if (given.length > 1) throw new UsageError(`give one of ${given.join(' and ')}, not both`);
  if (o.flag !== undefined) return o.flag;
  if (o.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(resolve(io.cwd, o.file), 'utf8');
    } catch (err) {
      throw new UsageError(`--${name}-file ${o.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const value = text.replace(/\r?\n$/, '');
    if (!value) throw new UsageError(`--${name}-file ${o.file} is empty`);
    return value;
  }
  return io.env[o.env] || undefined;
}
