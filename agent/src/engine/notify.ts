import { exec as realExec, type Exec } from '../dataplane/exec.ts';
import { errorText } from '../errors.ts';

/**
 * Runs a keepalived-style notify hook (notify_up / notify_down of a real server, quorum_up /
 * quorum_down of a virtual server) through `/bin/sh -c`, in the background with a timeout, so a
 * slow script never delays IPVS. Failures are logged, not raised.
 */
export function runNotify(command: string | null, what: string, log: (line: string) => void, run: Exec = realExec, timeoutMs = 30_000): Promise<void> {
  if (!command) return Promise.resolve();
  return run('/bin/sh', ['-c', command], { timeoutMs }).then(
    (r) => {
      if (r.code !== 0) log(`notify ${what} "${command}" exited ${r.code}: ${r.stderr.trim()}`);
    },
    (e) => log(`notify ${what} "${command}" failed: ${errorText(e)}`),
  );
}
