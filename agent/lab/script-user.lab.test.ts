import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { destroyAllLabs, NetnsLab, netnsUnavailable } from './netns.ts';
import { capture, waitFor } from './pair.ts';

/**
 * Least privilege for the spec's scripts on a real agent process (`lvsfleet-agent run --spec`,
 * linux dataplane) in a network namespace: a misc check runs as the default script user, which
 * cannot write to /root, and a check whose program is outside `--allow-scripts` is refused, with a
 * log line and an `agent.degraded` event naming it. IPVS may be missing here; checks run anyway.
 */
const skip = netnsUnavailable();
if (skip) console.log(`netns script-user lab skipped: ${skip}`);

afterAll(destroyAllLabs);

const BIN = join(import.meta.dirname, '../../bin/lvsfleet-agent.mjs');

describe.skipIf(!!skip)('agent scripts in a network namespace', () => {
  it('a misc check as the default script user cannot write to /root; a check outside --allow-scripts is refused', async () => {
    const lab = new NetnsLab();
    await lab.setup([{ name: 'd1', host: 11 }]);
    const victim = `/root/${lab.prefix}-written-by-check`;
    const allowed = join(lab.scriptDir(), 'write-root.sh');
    // Exit 3: not the default user (nobody here: no keepalived_script); 0: wrote /root; 1: could not.
    writeFileSync(allowed, `#!/bin/sh\n[ "$(id -un)" = nobody ] || exit 3\ntouch ${victim} 2>/dev/null && exit 0\nexit 1\n`, { mode: 0o755 });
    // lab.dir is under /tmp and 0700: not an allowed directory.
    const outside = join(lab.dir, 'outside.sh');
    writeFileSync(outside, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const spec = join(lab.dir, 'site.yaml');
    const check = (command: string) => `{ type: misc, command: "${command}", interval: 200ms, timeout: 2s, retries: 0, retryDelay: 100ms }`;
    writeFileSync(
      spec,
      `apiVersion: lvsfleet/v1
kind: Site
metadata: { name: lab }
spec:
  nodes:
    - { name: d1, role: director, address: ${lab.host('d1').address}, interface: eth0 }
  services:
    - name: web
      vip: ${lab.subnet}.50
      port: 80
      forwarding: dr
      realServers:
        - { address: ${lab.subnet}.21, healthCheck: ${check(allowed)} }
        - { address: ${lab.subnet}.22, healthCheck: ${check(outside)} }
`,
    );
    const out: string[] = [];
    const p = lab.spawn('d1', [
      process.execPath,
      BIN,
      'run',
      '--spec',
      spec,
      '--node',
      'd1',
      '--state-dir',
      join(lab.dir, 'state'),
      '--allow-scripts',
      lab.scriptDir(),
    ]);
    capture(p, out);
    const seen = (re: RegExp) => out.some((l) => re.test(l));
    try {
      await waitFor(async () => seen(/event realserver\.down .*"address":"[\d.]+\.21".*"detail":"exit 1"/), 20_000, 'the allowed check down with exit 1');
      expect(existsSync(victim)).toBe(false);
      const refused = new RegExp(`script refused: script ${outside.replace(/[.]/g, '\\.')} refused: not inside an allowed directory`);
      await waitFor(async () => seen(refused), 5_000, 'the refusal logged');
      // The event line is written just after the log line, but may come in the pipe's next chunk.
      await waitFor(async () => seen(/event agent\.degraded .*"what":"script".*outside\.sh refused/), 5_000, 'the agent.degraded event');
      await waitFor(async () => seen(/event realserver\.down .*"address":"[\d.]+\.22".*not inside an allowed directory/), 5_000, 'the refused check down');
      expect(out.filter((l) => refused.test(l))).toHaveLength(1); // once, not on every probe
    } catch (e) {
      throw new Error(`${(e as Error).message}\nagent:\n${out.slice(-30).join('\n')}`, { cause: e });
    } finally {
      await lab.destroy();
    }
  });
});
