import type { ScriptLauncher } from '../scripts/launcher.ts';
import { errorText } from '../errors.ts';

/** Enough of a hook's stderr to say why it failed; the rest is dropped, not buffered. */
const MAX_STDERR = 4096;

/**
 * Runs a keepalived-style notify hook (notify_up / notify_down of a real server, quorum_up /
 * quorum_down of a virtual server) through the agent's script launcher (allowed directory, script
 * user, no shell), in the background with a timeout after which its process group is killed, so a
 * slow script never delays IPVS. Failures are logged, not raised; a refusal is reported by the
 * launcher itself.
 */
export async function runNotify(command: string | null, what: string, log: (line: string) => void, scripts: ScriptLauncher, timeoutMs = 30_000): Promise<void> {
  if (!command) return;
  try {
    const l = await scripts.launch(command, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    if (!l.ok) return;
    const child = l.child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < MAX_STDERR) stderr += d.toString('utf8', 0, MAX_STDERR - stderr.length);
    });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    await new Promise<void>((resolve) => {
      child.once('error', (e) => (clearTimeout(timer), log(`notify ${what} "${command}" failed: ${errorText(e)}`), resolve()));
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (code !== 0) log(`notify ${what} "${command}" ${code === null ? `killed by ${signal}` : `exited ${code}`}: ${stderr.trim()}`);
        resolve();
      });
    });
  } catch (e) {
    log(`notify ${what} "${command}" failed: ${errorText(e)}`);
  }
}
