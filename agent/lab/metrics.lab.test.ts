import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { destroyAllLabs, NetnsLab, netnsUnavailable } from './netns.ts';
import { holdsVip, startPair, waitFor } from './pair.ts';
import { backupReady } from './scenario.ts';

const skip = netnsUnavailable(['arping']);
if (skip) console.log(`netns metrics lab skipped: ${skip}`);
const noPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).error ? 'promtool is not installed (Debian package prometheus)' : null;
if (!skip && noPromtool) console.log(`netns metrics lab: promtool check skipped: ${noPromtool}`);

afterAll(destroyAllLabs);

const PORT = 9650;

/** GET /metrics from inside the node's namespace (the endpoint listens on its namespace address only). */
async function scrape(lab: NetnsLab, node: 'd1' | 'd2'): Promise<string> {
  const url = `http://${lab.host(node).address}:${PORT}/metrics`;
  return lab.exec(node, [process.execPath, '-e', `fetch(${JSON.stringify(url)}).then((r) => r.text()).then((t) => process.stdout.write(t))`]);
}

/** The value of one series line (`name{labels}`), or null when absent. */
function value(text: string, series: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : null;
}

describe.skipIf(!!skip)('agent metrics endpoint in network namespaces (our VRRP pair)', () => {
  it('keepalived_vrrp_state reads 2 on the master and 1 on the backup, flips with a failover, and become_master_total counts it', async () => {
    const lab = new NetnsLab();
    const flag = join(lab.scriptDir(), 'nginx-down');
    const script = join(lab.scriptDir(), 'chk_nginx.sh');
    writeFileSync(script, `#!/bin/sh\ntest ! -e ${flag}.$(ip netns identify)\n`, { mode: 0o755 });
    const trackScript = { name: 'chk_nginx', command: script, weight: -60, intervalMs: 200 };
    // No default BFD session (250 ms detection): a starved host reads as a dead peer and flips the
    // pair outside the steps this test counts; BFD has its own labs.
    const pair = await startPair({ d1: 'ours', d2: 'ours' }, { version: 3, advertMs: 100, trackScript, bfd: false }, lab, {
      ourArgs: (n) => ['--metrics-listen', `${lab.host(n).address}:${PORT}`, '--allow-scripts', lab.scriptDir()],
    });
    const { vip } = pair;
    const state = (t: string) => value(t, `keepalived_vrrp_state{iname="VI_1",intf="eth0",vrid="51",ip_address="${vip}"}`);
    const counter = (t: string, name: string) => value(t, `keepalived_${name}_total{iname="VI_1",intf="eth0",vrid="51"}`);
    try {
      await waitFor(
        async () => backupReady(pair.out.d2) && (await holdsVip(lab, 'd1', vip)) && !(await holdsVip(lab, 'd2', vip)),
        20_000,
        'd1 MASTER with the VIP, d2 BACKUP',
      );
      let [d1, d2] = [await scrape(lab, 'd1'), await scrape(lab, 'd2')];
      expect([state(d1), state(d2)]).toEqual([2, 1]);
      // The counts so far. d2 may have been MASTER for a moment: when it starts first and hears no
      // advert for its master-down interval, VRRP makes it MASTER (RFC 5798 §6.4.2) until d1's
      // higher priority arrives; then it also released once. So counts are compared as steps.
      const released = (t: string) => counter(t, 'release_master') ?? 0;
      const base = { d1: counter(d1, 'become_master')!, d2: counter(d2, 'become_master')!, d1Released: released(d1), d2Released: released(d2) };
      expect(base.d1).toBeGreaterThanOrEqual(1);
      expect([base.d1 - base.d1Released, base.d2 - base.d2Released]).toEqual([1, 0]);
      expect(value(d1, 'keepalived_up')).toBe(1);
      expect(value(d1, 'keepalived_script_status{name="chk_nginx"}')).toBe(1);
      expect(counter(d2, 'advertisements_received')).toBeGreaterThan(0);
      expect(counter(d1, 'advertisements_sent')).toBeGreaterThan(0);
      expect(value(d1, 'lvsfleet_agent_applied_revision')).toBe(1);
      if (!noPromtool) execFileSync('promtool', ['check', 'metrics'], { input: d1, encoding: 'utf8' });

      // The track script fails on d1 (weight -60: 150 → 90 < 100): d2 preempts.
      writeFileSync(`${flag}.${lab.host('d1').ns}`, '');
      await waitFor(async () => (await holdsVip(lab, 'd2', vip)) && !(await holdsVip(lab, 'd1', vip)), 10_000, 'the VIP on d2');
      await waitFor(async () => state(await scrape(lab, 'd1')) === 1 && state(await scrape(lab, 'd2')) === 2, 5_000, 'the states flipped');
      [d1, d2] = [await scrape(lab, 'd1'), await scrape(lab, 'd2')];
      expect([counter(d1, 'become_master'), counter(d2, 'become_master')]).toEqual([base.d1, base.d2 + 1]);
      expect(released(d1)).toBe(base.d1Released + 1);
      expect(value(d1, 'keepalived_script_status{name="chk_nginx"}')).toBe(0);

      // Recovery: d1 preempts back, and counts its second election.
      rmSync(`${flag}.${lab.host('d1').ns}`);
      await waitFor(async () => state(await scrape(lab, 'd1')) === 2 && state(await scrape(lab, 'd2')) === 1, 10_000, 'd1 MASTER again');
      [d1, d2] = [await scrape(lab, 'd1'), await scrape(lab, 'd2')];
      expect([counter(d1, 'become_master'), counter(d2, 'become_master'), released(d2)]).toEqual([base.d1 + 1, base.d2 + 1, base.d2Released + 1]);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nd1:\n${pair.out.d1.slice(-15).join('\n')}\nd2:\n${pair.out.d2.slice(-15).join('\n')}`, { cause: e });
    } finally {
      await lab.destroy();
    }
  });
});
