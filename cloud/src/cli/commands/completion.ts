import { UsageError, withUsage } from '../args.ts';
import { completionScript, isShell } from '../completion.ts';
import type { CliIO } from '../io.ts';

/** `lvsfleet completion bash|zsh|fish`: a completion script made from the command table. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  return withUsage('completion', io, async () => {
    const [shell, ...extra] = argv;
    if (!isShell(shell) || extra.length) throw new UsageError('completion bash|zsh|fish');
    io.stdout(completionScript(shell));
    return 0;
  });
}
