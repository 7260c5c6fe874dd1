import { spawn } from 'node:child_process';
import { AgentError } from '../errors.ts';

interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string;
  timeoutMs?: number;
  /** Run inside `ip netns exec NAME` (tests and labs drive hosts in namespaces). */
  netns?: string;
}

export type Exec = (cmd: string, args: string[], opts?: ExecOptions) => Promise<ExecResult>;

/**
 * The one way the agent runs host tools: no shell, a hard timeout (SIGKILL), output collected.
 * A missing binary is EXEC_NOT_FOUND; a timeout is EXEC_TIMEOUT. A non-zero exit is returned,
 * not thrown, so callers can read the tool's own message ("Protocol not available").
 */
export const exec: Exec = (cmd, args, opts = {}) =>
  new Promise((resolve, reject) => {
    const [file, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, cmd, ...args]] : [cmd, args];
    const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new AgentError('EXEC_TIMEOUT', `${cmd} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT' ? new AgentError('EXEC_NOT_FOUND', `${file} not found`) : new AgentError('EXEC_FAILED', `${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on('error', () => {}); // the tool may exit before reading its input
    child.stdin.end(opts.input ?? '');
  });

/** Runs and throws EXEC_FAILED with the tool's stderr on a non-zero exit. */
export async function execOk(run: Exec, cmd: string, args: string[], opts?: ExecOptions): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new AgentError('EXEC_FAILED', `${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`, r.stderr);
  return r.stdout;
}
