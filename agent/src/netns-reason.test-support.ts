import { execFileSync } from 'node:child_process';

/** Why a network-namespace test cannot run here (root and `ip netns` are needed), or null. */
export function netnsSkipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'ip netns is not available';
  }
}
