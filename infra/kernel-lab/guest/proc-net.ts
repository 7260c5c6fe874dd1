/**
 * A namespace's /proc/net files read by the driver itself, without a process: /proc/PID/net shows
 * the network namespace of PID, so one idle process parked in each namespace (an anchor) makes
 * every later read a plain file read. Each `ip netns exec … cat` or `ipvsadm` was a process the
 * driver (a large Node process) started, and under TCG the processes of a probe polled every 300
 * ms took about a tenth of a CPU, taken from the client whose request rate the operations
 * scenarios print.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { sleep } from './sh.ts';

const anchors = new Map<string, ChildProcess>();

/** The namespace's identity: the inode of its nsfs file, what /proc/PID/ns/net of a member shows too. */
function nsInode(ns: string): number {
  // Where `ip netns add` put it: Debian's iproute2 uses /run/netns, upstream's default /var/run/netns.
  try {
    return statSync(`/run/netns/${ns}`).ino;
  } catch {
    return statSync(`/var/run/netns/${ns}`).ino;
  }
}

function inNamespace(pid: number | undefined, ino: number): boolean {
  if (pid === undefined) return false;
  try {
    return statSync(`/proc/${pid}/ns/net`).ino === ino;
  } catch {
    return false;
  }
}

/**
 * A PID inside `ns`. The anchor is checked by the namespace's inode at every use: a crash scenario
 * kills every process of a namespace (its anchor too), and a PID taken over by another process
 * must not answer for the wrong namespace.
 */
async function anchorPid(ns: string): Promise<number> {
  const ino = nsInode(ns);
  const kept = anchors.get(ns);
  if (kept && inNamespace(kept.pid, ino)) return kept.pid!;
  kept?.kill('SIGKILL');
  // `ip netns exec` joins the namespace, then execs sleep in the same process.
  const child = spawn('ip', ['netns', 'exec', ns, 'sleep', '1000000'], { stdio: 'ignore' });
  child.on('error', () => {});
  child.unref();
  anchors.set(ns, child);
  for (let i = 0; i < 500; i++) {
    if (inNamespace(child.pid, ino)) return child.pid!;
    if (child.exitCode !== null) break;
    await sleep(10);
  }
  throw new Error(`no process could be parked in namespace ${ns}`);
}

/** The text of /proc/net/FILE as seen inside `ns` (`ip_vs`, `ip_vs_conn`, `snmp`, `dev`). */
export async function procNet(ns: string, file: string): Promise<string> {
  return readFileSync(`/proc/${await anchorPid(ns)}/net/${file}`, 'utf8');
}

/** Ends every anchor (the lab's shutdown). */
export function closeAnchors(): void {
  for (const a of anchors.values()) a.kill('SIGKILL');
  anchors.clear();
}
