import type { CliIO } from '../io.ts';
import { putSpec } from './apply.ts';

/** `lvsfleet diff -f FILE`: what applying FILE would change (a dry run; nothing is written). */
export function run(argv: string[], io: CliIO): Promise<number> {
  return putSpec('diff', argv, io, true);
}
