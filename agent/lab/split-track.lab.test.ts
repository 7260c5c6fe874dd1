import { afterAll, describe, expect, it } from 'vitest';
import { destroyAllLabs, NetnsLab, netnsUnavailable } from './netns.ts';
import { holdsVip, startPair, waitFor, type Impl } from './pair.ts';
import { backupReady } from './scenario.ts';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const skip = netnsUnavailable(['keepalived', 'nft', 'arping']);
if (skip) console.log(`netns VRRP split/track lab skipped: ${skip}`);

const both = async (lab: NetnsLab, vip: string) => [await holdsVip(lab, 'd1', vip), await holdsVip(lab, 'd2', vip)];

afterAll(destroyAllLabs);

describe.skipIf(!!skip)('VRRP split brain and track scripts in network namespaces', () => {
  for (const d2 of ['ours', 'keepalived'] as Impl[])
    it(`an nft rule dropping protocol 112 on d2 (${d2}) makes two masters; deleting it leaves one`, async () => {
      const lab = new NetnsLab();
      const pair = await startPair({ d1: 'ours', d2 }, { version: 3, advertMs: 100 }, lab);
      try {
        await waitFor(async () => backupReady(pair.out.d2) && (await both(lab, pair.vip)).join() === 'true,false', 20_000, 'd1 MASTER, d2 BACKUP');
        const table = `${lab.prefix}_vrrp`;
        await lab.exec('d2', ['nft', 'add', 'table', 'ip', table]);
        await lab.exec('d2', ['nft', 'add', 'chain', 'ip', table, 'in', '{ type filter hook input priority 0 ; }']);
        await lab.exec('d2', ['nft', 'add', 'rule', 'ip', table, 'in', 'ip', 'protocol', '112', 'drop']);
        await waitFor(async () => (await both(lab, pair.vip)).join() === 'true,true', 5_000, 'two masters while split');
        await lab.exec('d2', ['nft', 'delete', 'table', 'ip', table]);
        await waitFor(async () => (await both(lab, pair.vip)).join() === 'true,false', 5_000, 'one master (d1) after healing');
        // And it stays that way: no flapping after the heal.
        await new Promise((r) => setTimeout(r, 1000));
        expect(await both(lab, pair.vip)).toEqual([true, false]);
      } finally {
        await lab.destroy();
      }
    });

  for (const d2 of ['ours', 'keepalived'] as Impl[])
    it(`a failing track script (weight -60) on d1 moves the VIP to d2 (${d2}); recovering moves it back`, async () => {
      const lab = new NetnsLab();
      // Both directors run the instance's script, on one shared filesystem: the flag is per namespace.
      const flag = join(lab.scriptDir(), 'nginx-down');
      const script = join(lab.scriptDir(), 'chk_nginx.sh');
      writeFileSync(script, `#!/bin/sh\ntest ! -e ${flag}.$(ip netns identify)\n`, { mode: 0o755 });
      // keepalived runs vrrp_scripts at whole seconds; ours accepts 200 ms.
      const trackScript = { name: 'chk_nginx', command: script, weight: -60, intervalMs: d2 === 'keepalived' ? 1000 : 200 };
      const pair = await startPair({ d1: 'ours', d2 }, { version: 3, advertMs: 100, trackScript }, lab, {
        ourArgs: () => ['--allow-scripts', lab.scriptDir()],
      });
      const d1Flag = `${flag}.${lab.host('d1').ns}`;
      try {
        await waitFor(async () => backupReady(pair.out.d2) && (await both(lab, pair.vip)).join() === 'true,false', 20_000, 'd1 MASTER, d2 BACKUP');
        writeFileSync(d1Flag, '');
        await waitFor(async () => (await both(lab, pair.vip)).join() === 'false,true', 10_000, 'the VIP on d2 while the script fails');
        expect(pair.out.d1.some((l) => /MASTER→BACKUP \(higher priority 100/.test(l))).toBe(true);
        rmSync(d1Flag);
        await waitFor(async () => (await both(lab, pair.vip)).join() === 'true,false', 10_000, 'the VIP back on d1 (preempt)');
      } finally {
        await lab.destroy();
      }
    });
});
