/** Process helpers for the guest driver: run commands (optionally inside a netns), keep daemons. */
import { spawn, type ChildProcess } from 'node:child_process';

/** Result of a finished command. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Thrown by {@link sh} when a command exits non-zero. */
export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly result: RunResult,
  ) {
    super(`${argv.join(' ')} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
}

/** Run argv, feed `input` on stdin, collect output; never throws. */
export function run(argv: string[], input?: string, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: String(e) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** Run argv and return stdout; throws {@link CommandError} on a non-zero exit. */
export async function sh(...argv: string[]): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new CommandError(argv, r);
  return r.stdout;
}

/** `sh` inside network namespace `ns`. */
export function nsh(ns: string, ...argv: string[]): Promise<string> {
  return sh('ip', 'netns', 'exec', ns, ...argv);
}

/** A long-running process in a namespace, its output kept (and echoed when verbose). */
export interface Daemon {
  name: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it is gone: true when it took the SIGKILL. */
  stop(graceMs?: number): Promise<boolean>;
  kill(signal?: NodeJS.Signals): void;
}

/** Start argv inside `ns` (or the root namespace when ns is null). */
export function daemon(name: string, ns: string | null, argv: string[], opts: { env?: Record<string, string>; stdin?: boolean } = {}): Daemon {
  const full = ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv;
  const child = spawn(full[0], full.slice(1), { stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  let out = '';
  const take = (d: Buffer) => {
    const s = d.toString();
    out += s;
    if (out.length > 200_000) out = out.slice(-100_000);
    if (process.env.LAB_VERBOSE === '1') for (const line of s.split('\n')) if (line) process.stdout.write(`  [${name}] ${line}\n`);
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : null))));
  return {
    name,
    child,
    output: () => out,
    exited,
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return false;
      child.kill('SIGTERM');
      let killed = false;
      const t = setTimeout(() => ((killed = true), child.kill('SIGKILL')), graceMs);
      await exited;
      clearTimeout(t);
      return killed;
    },
  };
}

/** Sleep. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `probe` until it returns a truthy value or `timeoutMs` passes; returns the value or undefined. */
export async function waitFor<T>(probe: () => Promise<T | undefined | false | null>, timeoutMs: number, everyMs = 200): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v) return v as T;
    if (Date.now() >= end) return undefined;
    await sleep(everyMs);
  }
}
