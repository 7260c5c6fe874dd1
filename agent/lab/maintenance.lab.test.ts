import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Override } from '#shared/overrides/override.ts';
import { destroyAllLabs, netnsUnavailable, NetnsLab } from './netns.ts';
import { holdsVip, startPair, waitFor } from './pair.ts';
import { VipPinger } from './ping.ts';
import { backupReady } from './scenario.ts';

const skip = netnsUnavailable(['ping', 'arping']);
if (skip) console.log(`netns maintenance lab skipped: ${skip}`);

afterAll(destroyAllLabs);

/**
 * Operational overrides on a real VRRP pair (our agents in standalone mode with `--overrides`,
 * VRRPv3 at 100 ms adverts, the client pinging the VIP every 10 ms): maintenance of the MASTER
 * director hands over to the peer, which preempts it once it advertises priority 1, the director
 * stays BACKUP until `until` on its own clock, then comes back and preempts (priority 150 over
 * 100); a failover to the BACKUP makes it MASTER until its `until`.
 */
describe.skipIf(!!skip)('overrides in network namespaces (VRRPv3 100 ms, client pings the VIP every 10 ms)', () => {
  const advertMs = 100;
  const base = { author: 'lab', reason: 'lab', createdAt: new Date().toISOString() };

  async function pairWithOverrides() {
    const lab = new NetnsLab();
    await lab.setup([
      { name: 'd1', host: 11 },
      { name: 'd2', host: 12 },
      { name: 'client', host: 100 },
    ]);
    const file = join(lab.dir, 'overrides.json');
    writeFileSync(file, '[]');
    const pair = await startPair({ d1: 'ours', d2: 'ours' }, { version: 3, advertMs }, lab, { ourArgs: () => ['--overrides', file] });
    const set = (list: Override[]) => {
      writeFileSync(file, JSON.stringify(list));
      pair.procs.d1.kill('SIGHUP');
      pair.procs.d2.kill('SIGHUP');
    };
    await waitFor(
      async () => backupReady(pair.out.d2) && (await holdsVip(lab, 'd1', pair.vip)) && !(await holdsVip(lab, 'd2', pair.vip)),
      20_000,
      'd1 MASTER with the VIP, d2 a running BACKUP',
    );
    await new Promise((r) => setTimeout(r, 5 * advertMs));
    return { lab, pair, set };
  }

  it('maintenance of the MASTER: the peer takes over, d1 stays BACKUP until the override ends, then returns', async () => {
    const { lab, pair, set } = await pairWithOverrides();
    try {
      const ping = new VipPinger(lab, 'client', pair.vip);
      await ping.waitReplies(30);
      const from = ping.replies.length - 1;
      const holdMs = 6000;
      const start = Date.now();
      set([{ id: 'm1', kind: 'maintenance-director', node: 'd1', until: new Date(start + holdMs).toISOString(), ...base }]);
      await waitFor(
        async () => (await holdsVip(lab, 'd2', pair.vip)) && !(await holdsVip(lab, 'd1', pair.vip)),
        10_000,
        'd2 to take over from d1 in maintenance',
      );
      const handover = Date.now() - start;
      await ping.waitReplies(30);
      const gap = ping.longestGapMs(from);
      // Stays BACKUP while the override lasts (checked until shortly before `until`).
      while (Date.now() < start + holdMs - 800) {
        expect(await holdsVip(lab, 'd1', pair.vip)).toBe(false);
        await new Promise((r) => setTimeout(r, 200));
      }
      await waitFor(() => holdsVip(lab, 'd1', pair.vip), 10_000, 'd1 back as MASTER after the override ended');
      const back = Date.now() - start;
      ping.stop();
      console.log(
        `maintenance d1: handover ${handover} ms after the reload, longest client gap ${gap} ms, d1 MASTER again ${back} ms after (until at ${holdMs} ms)`,
      );
      expect(back).toBeGreaterThanOrEqual(holdMs - 100);
      expect(pair.out.d1.some((l) => /overrides: maintenance-director m1 ended/.test(l))).toBe(true);
      // A handover, not a failure: the peer preempted a live master, so the client saw at most a preemption's blip.
      expect(gap).toBeLessThan(1000);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nd1:\n${pair.out.d1.slice(-20).join('\n')}\nd2:\n${pair.out.d2.slice(-20).join('\n')}`, { cause: e });
    } finally {
      await lab.destroy();
    }
  }, 60_000);

  it('failover VI_1 --to d2: d2 MASTER, back to d1 after the override ends', async () => {
    const { lab, pair, set } = await pairWithOverrides();
    try {
      const holdMs = 4000;
      const start = Date.now();
      set([{ id: 'f1', kind: 'failover', instance: 'VI_1', node: 'd2', until: new Date(start + holdMs).toISOString(), ...base }]);
      await waitFor(async () => (await holdsVip(lab, 'd2', pair.vip)) && !(await holdsVip(lab, 'd1', pair.vip)), 10_000, 'd2 MASTER after failover --to d2');
      const moved = Date.now() - start;
      await waitFor(() => holdsVip(lab, 'd1', pair.vip), 10_000, 'd1 MASTER again after the failover ended');
      const back = Date.now() - start;
      console.log(`failover --to d2: d2 MASTER ${moved} ms after the reload, d1 back ${back} ms after (until at ${holdMs} ms)`);
      expect(back).toBeGreaterThanOrEqual(holdMs - 100);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nd1:\n${pair.out.d1.slice(-20).join('\n')}\nd2:\n${pair.out.d2.slice(-20).join('\n')}`, { cause: e });
    } finally {
      await lab.destroy();
    }
  }, 60_000);
});
