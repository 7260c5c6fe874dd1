import type { GlobalFlags } from './global-flags.ts';

/** What a command may touch of the process, so tests run commands in-process. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  cwd: string;
  readStdin: () => Promise<string>;
  /** Whether stdout is a terminal (colour only then). */
  isTTY?: boolean;
  /** stdout without the terminal filter, set by main (output.ts terminalIO): only for text built from filtered data plus the CLI's own colours. */
  stdoutStyled?: (text: string) => void;
  /** --url, --token, --context, split off by main. */
  globals?: GlobalFlags;
}

export function defaultIO(): CliIO {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
    isTTY: process.stdout.isTTY === true,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}
