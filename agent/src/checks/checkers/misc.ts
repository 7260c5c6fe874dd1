import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ResolvedCheck } from '#shared/config/node-config.ts';
import { CheckError, type ProbeOutcome } from '../types.ts';
import { attempt, errorDetail, parseParams } from './common.ts';

const MiscParams = z.object({ command: z.string().min(1), dynamic: z.boolean().optional(), user: z.string().optional() });

/**
 * MISC_CHECK: `sh -c command` in its own process group. Exit 0 → up; 1 → down; with misc_dynamic
 * 2–255 → up with weight = code − 2; any other exit or a signal → down. On connect_timeout the
 * whole process group is killed (SIGKILL), as keepalived does with misc_timeout.
 */
export async function miscCheck(check: ResolvedCheck, signal: AbortSignal): Promise<ProbeOutcome> {
  const p = parseParams(MiscParams, check);
  const ids = p.user ? lookupUser(p.user) : null;
  return attempt(check, signal, (settle) => {
    const child = spawn('sh', ['-c', p.command], { detached: true, stdio: 'ignore', ...(ids ?? {}) });
    child.once('error', (err) => settle({ ok: false, detail: errorDetail('spawn', err) }));
    child.once('exit', (code, sig) => settle(judgeExit(code, sig, p.dynamic === true)));
    return () => {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // the group is already gone
        }
      }
    };
  });
}

/** keepalived's reading of a MISC_CHECK exit status (misc_dynamic: weight = status − 2). */
export function judgeExit(code: number | null, sig: NodeJS.Signals | null, dynamic: boolean): ProbeOutcome {
  if (code === null) return { ok: false, detail: `killed by ${sig}` };
  if (code === 0) return { ok: true, detail: 'exit 0' };
  if (dynamic && code >= 2 && code <= 255) return { ok: true, detail: `exit ${code}: weight ${code - 2}`, weight: code - 2 };
  return { ok: false, detail: `exit ${code}` };
}

/** uid/gid of a local user from /etc/passwd (running as another user needs root). */
function lookupUser(user: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[0] === user);
  if (!line) throw new CheckError('BAD_PARAMS', `misc check user ${user} not found in /etc/passwd`);
  const [, , uid, gid] = line.split(':');
  if (process.getuid && process.getuid() !== 0 && process.getuid() !== Number(uid)) {
    throw new CheckError('NOT_PERMITTED', `cannot run the misc check as ${user}: the agent is not root`);
  }
  return { uid: Number(uid), gid: Number(gid) };
}
