import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseSiteSource } from '#shared/site/parse.ts';
import type { Site } from '#shared/site/site.ts';
import { UsageError } from './args.ts';
import { formatIssueLine } from './client.ts';
import type { CliIO } from './io.ts';

/** Reads `-f FILE` (or `-` for stdin); the name is what error lines show. */
export async function readSpecFile(file: string | undefined, io: CliIO): Promise<{ name: string; text: string }> {
  if (!file) throw new UsageError('-f FILE is required (use -f - for stdin)');
  if (file === '-') return { name: '<stdin>', text: await io.readStdin() };
  try {
    return { name: file, text: await readFile(resolve(io.cwd, file), 'utf8') };
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** A spec file that passed the offline check: the site, and what `apply` and `diff` send (parseSiteSource). */
export interface CheckedSpec {
  site: Site;
  /** The file's value as JSON, the body sent: the server parses it at a fifteenth of YAML's cost. */
  json: () => string;
  /** The file's line of a path the server's answer names. */
  lineOf: (path: string) => number | undefined;
}

/** Parses and validates offline; on problems prints `FILE:LINE: path: message` lines and answers null. */
export function checkSpec(file: { name: string; text: string }, io: CliIO): CheckedSpec | null {
  const result = parseSiteSource(file.text);
  if (result.ok) return result;
  for (const issue of result.issues) io.stderr(`${formatIssueLine(issue, file.name)}\n`);
  return null;
}
