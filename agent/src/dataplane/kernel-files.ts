import { readFileSync, writeFileSync } from 'node:fs';
import { AgentError } from '../errors.ts';
import { execOk, type Exec, type ExecOptions } from './exec.ts';

/**
 * The kernel's files under /proc and /sys that the Linux dataplane reads and writes: sysctls,
 * /proc/net/ip_vs, the default routes, a device's flags. On its own host it opens them itself.
 * Every `sysctl`, `ip` or `cat` process costs a fork of the agent and an exec, which a real
 * server's periodic check did a dozen times (under the kernel lab's emulation about 70 ms of CPU
 * each). For a namespace it runs `cat` and `tee` through `ip netns exec`: a process sees the
 * /proc/net, /proc/sys/net and /sys/class/net of its own namespace only.
 */
export interface KernelFiles {
  /** The file's text; null when it does not exist. */
  read(path: string): Promise<string | null>;
  write(path: string, text: string): Promise<void>;
}

/**
 * Synchronous reads and writes: these files are the kernel's memory, not a disk, and answer at
 * once. The promise API's open, fstat, read, close (each a trip through libuv's pool) cost a real
 * server's agent more CPU than the values were worth (profiled in the kernel lab).
 */
export const hostKernelFiles: KernelFiles = {
  async read(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new AgentError('EXEC_FAILED', `read ${path}: ${(e as Error).message}`);
    }
  },
  async write(path, text) {
    try {
      writeFileSync(path, text);
    } catch (e) {
      throw new AgentError('EXEC_FAILED', `write ${path}: ${(e as Error).message}`);
    }
  },
};

export function execKernelFiles(run: Exec, o: ExecOptions): KernelFiles {
  return {
    async read(path) {
      const r = await run('cat', [path], o);
      return r.code === 0 ? r.stdout : null;
    },
    async write(path, text) {
      await execOk(run, 'tee', [path], { ...o, input: text });
    },
  };
}

/**
 * A sysctl key's file, as sysctl(8) maps it: dots separate the levels, and a slash stands for a
 * dot inside one level (`net.ipv4.conf.eth0/100.arp_ignore` is the VLAN device eth0.100). A key
 * whose levels would leave /proc/sys (empty, `.` or `..`) is refused.
 */
export function sysctlPath(key: string): string {
  let path = paths.get(key);
  if (path === undefined) {
    const levels = key.split('.').map((l) => l.replaceAll('/', '.'));
    if (levels.some((l) => l === '' || l === '.' || l === '..' || l.includes('\0')))
      throw new AgentError('INVALID_INPUT', `sysctl key ${JSON.stringify(key)} is not a sysctl name`);
    path = `/proc/sys/${levels.join('/')}`;
    // Keys come from the configuration, a few dozen at most; the periodic check asks for each every 5 s.
    if (paths.size < 4096) paths.set(key, path);
  }
  return path;
}
const paths = new Map<string, string>();
