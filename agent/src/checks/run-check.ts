import type { ResolvedCheck } from '#shared/config/node-config.ts';
import type { CheckType } from '#shared/site/ipvs-words.ts';
import { dnsCheck } from './checkers/dns.ts';
import { httpCheck } from './checkers/http.ts';
import { createMiscCheck } from './checkers/misc.ts';
import { pingCheck } from './checkers/ping.ts';
import { smtpCheck } from './checkers/smtp.ts';
import { tcpCheck } from './checkers/tcp.ts';
import { udpCheck } from './checkers/udp.ts';
import { ScriptLauncher } from '../scripts/launcher.ts';
import { NO_SCRIPTS } from '../scripts/policy.ts';
import { CheckError, type Checker, type ProbeOutcome } from './types.ts';

/**
 * The checker of every check type (http and https share one: TLS is decided by the type); misc
 * checks run through `scripts`, the agent's script policy.
 */
export function checkersFor(scripts: ScriptLauncher): Record<CheckType, Checker> {
  return { tcp: tcpCheck, http: httpCheck, https: httpCheck, smtp: smtpCheck, dns: dnsCheck, misc: createMiscCheck(scripts), udp: udpCheck, ping: pingCheck };
}

/** Without a script policy no directory is allowed: every misc check is refused (and says why). */
export const CHECKERS = checkersFor(new ScriptLauncher(NO_SCRIPTS));

/**
 * One attempt of `check`, aborted by `signal` (the driver aborts at connect_timeout or when the
 * probe is cancelled). Never rejects: bad params and unexpected errors become failed outcomes.
 */
export async function runCheck(check: ResolvedCheck, signal: AbortSignal, checkers: Record<string, Checker> = CHECKERS): Promise<ProbeOutcome> {
  try {
    return await checkers[check.type](check, signal);
  } catch (err) {
    return { ok: false, detail: err instanceof CheckError ? err.message : `checker error: ${(err as Error)?.message ?? String(err)}` };
  }
}
