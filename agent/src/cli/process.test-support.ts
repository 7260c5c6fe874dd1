import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from '#shared/util/wait-for.test-support.ts';

export interface TestProcess {
  p: ChildProcess;
  /** The exit code (-1 when killed by a signal). */
  exited: Promise<number>;
  /** stdout and stderr, interleaved as they arrived. */
  output(): string;
  /**
   * Resolves with the output's length once `re` matches the output after offset `from` (pass
   * the previous answer to wait for a new line); fails at once if the process exits first.
   */
  waitForOutput(re: RegExp, from?: number, timeoutMs?: number): Promise<number>;
}

const live = new Set<ChildProcess>();

/** Spawns a long-running command (an agent, the cloud) for a test and collects its output. */
export function startProcess(command: string, args: string[], env: Record<string, string> = {}): TestProcess {
  const p = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  live.add(p);
  let out = '';
  p.stdout!.on('data', (b) => (out += b));
  p.stderr!.on('data', (b) => (out += b));
  const exited = new Promise<number>((r) => p.on('close', (c) => (live.delete(p), r(c ?? -1))));
  const name = args.find((a) => a.endsWith('.mjs')) ?? command;
  return {
    p,
    exited,
    output: () => out,
    async waitForOutput(re, from = 0, timeoutMs = 60_000) {
      const seen = () => re.test(out.slice(from));
      await waitFor(() => seen() || p.exitCode !== null || p.signalCode !== null, { timeoutMs, what: `${re} from ${name}`, intervalMs: 50 }).catch(
        (e: Error) => {
          throw new Error(`${e.message}; output:\n${out}`);
        },
      );
      if (!seen()) throw new Error(`${name} exited before ${re}; output:\n${out}`);
      return out.length;
    },
  };
}

/** Kills every process a test started and left running (afterAll). */
export function killTestProcesses(): void {
  for (const p of live) p.kill('SIGKILL');
}
