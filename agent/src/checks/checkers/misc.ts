import type { ChildProcess } from 'node:child_process';
import * as z from 'zod';
import type { ScriptLauncher } from '../../scripts/launcher.ts';
import type { Checker, ProbeOutcome } from '../types.ts';
import { attempt, errorDetail, parseParams } from './common.ts';

const MiscParams = z.object({ command: z.string().min(1), dynamic: z.boolean().optional(), user: z.string().optional() });

/**
 * MISC_CHECK: the command run through the agent's script launcher (allowed directory, safe
 * permissions, the script user; no shell) in its own process group. Exit 0 → up; 1 → down; with
 * misc_dynamic 2–255 → up with weight = code − 2; any other exit or a signal → down. On
 * connect_timeout the whole process group is killed (SIGKILL), as keepalived does with misc_timeout.
 * A refused script is down with the refusal as its detail.
 */
export function createMiscCheck(scripts: ScriptLauncher): Checker {
  return async (check, signal) => {
    const p = parseParams(MiscParams, check);
    return attempt(check, signal, (settle) => {
      let killed = false;
      let child: ChildProcess | null = null;
      void scripts.launch(p.command, { user: p.user ?? null, detached: true }).then(
        (l) => {
          if (!l.ok) return settle({ ok: false, detail: l.refusal.detail });
          child = l.child;
          if (killed) killGroup(child);
          child.once('error', (err) => settle({ ok: false, detail: errorDetail('spawn', err) }));
          child.once('exit', (code, sig) => settle(judgeExit(code, sig, p.dynamic === true)));
        },
        (err: unknown) => settle({ ok: false, detail: errorDetail('launch', err) }),
      );
      return () => {
        killed = true;
        if (child) killGroup(child);
      };
    });
  };
}

function killGroup(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null && child.pid) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  }
}

/** keepalived's reading of a MISC_CHECK exit status (misc_dynamic: weight = status − 2). */
export function judgeExit(code: number | null, sig: NodeJS.Signals | null, dynamic: boolean): ProbeOutcome {
  if (code === null) return { ok: false, detail: `killed by ${sig}` };
  if (code === 0) return { ok: true, detail: 'exit 0' };
  if (dynamic && code >= 2 && code <= 255) return { ok: true, detail: `exit ${code}: weight ${code - 2}`, weight: code - 2 };
  return { ok: false, detail: `exit ${code}` };
}
