import { readFileSync } from 'node:fs';

/**
 * The soft limit on open files (from /proc/self/limits; Node has no getrlimit), or null where
 * there is no /proc. Every probe in flight holds a socket or a pipe, so a director with thousands
 * of checks needs more than the common default of 1024 (systemd: LimitNOFILE=).
 */
export function openFileLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.trim().split(/\s+/)[3];
    return soft === undefined || soft === 'unlimited' ? null : Number(soft);
  } catch {
    return null;
  }
}
