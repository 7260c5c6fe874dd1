import type { CliIO } from './io.ts';

/** A CliIO that records what a command prints, for in-process command tests. */
export function memoryIO(env: Record<string, string | undefined>, stdin = '', cwd = process.cwd()): CliIO & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    env,
    cwd,
    stdout: (t: string) => void (io.out += t),
    stderr: (t: string) => void (io.err += t),
    readStdin: async () => stdin,
  };
  return io;
}
