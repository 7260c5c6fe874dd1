import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLinuxVrrpHost } from '../src/dataplane/vrrp-host-linux.ts';
import { destroyAllLabs, NetnsLab, netnsUnavailable } from './netns.ts';

const skip = netnsUnavailable(['nft', 'arping']);
if (skip) console.log(`netns linger-sweep lab skipped: ${skip}`);

afterAll(destroyAllLabs);

/**
 * An agent that died while lingering after a hand-over left a rule, a local route and an ARP
 * table for a VIP its next revision no longer has. The restarted agent's linux host sweeps them
 * at its first linger change (an instance's start), leaving everything not of the linger alone.
 */
describe.skipIf(!!skip)('the linger left by a dead agent is swept at start (ip rule/route, nft arp, in a netns)', () => {
  it('rules, routes and ARP tables of any VIP go, of both families; other rules and tables stay; the sweep makes the VIP non-local again', async () => {
    const lab = new NetnsLab();
    try {
      await lab.setup([
        { name: 'a', host: 11 },
        { name: 'c', host: 2 },
      ]);
      const oldVip = `${lab.subnet}.77`;
      const vip = `${lab.subnet}.50`;
      const dir = lab.scriptDir();
      const inA = (...args: string[]) => lab.exec('a', args);
      // What the dead agent left (as its linger made them), and what is not the linger's.
      await inA('ip', 'route', 'replace', 'local', `${oldVip}/32`, 'dev', 'lo', 'table', '7911');
      await inA('ip', 'rule', 'add', 'to', `${oldVip}/32`, 'lookup', '7911', 'priority', '7911');
      await inA('ip', '-6', 'route', 'replace', 'local', 'fd00:77::77/128', 'dev', 'lo', 'table', '7911');
      await inA('ip', '-6', 'rule', 'add', 'to', 'fd00:77::77/128', 'lookup', '7911', 'priority', '7911');
      await inA('ip', 'rule', 'add', 'to', '192.0.2.0/24', 'lookup', 'main', 'priority', '100');
      const arpTable = (name: string, daddr: string) =>
        `table arp ${name} {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    arp operation request arp daddr ip { ${daddr} } drop\n  }\n}\n`;
      writeFileSync(join(dir, 'left.nft'), arpTable('lvsfleet_linger_VI_OLD', oldVip) + 'table arp keep_me {\n}\n');
      await inA('nft', '-f', join(dir, 'left.nft'));
      expect(await inA('ip', 'route', 'get', oldVip)).toMatch(/^local /);

      const host = createLinuxVrrpHost({ garpHelper: false, ip: lab.toolIn('a', 'ip'), nft: lab.toolIn('a', 'nft') });
      try {
        // An instance's start ends any linger of its own VIPs: the first change, so the sweep runs.
        await host.lingerVips('VI_1', [vip], 0);
        expect((await inA('ip', 'rule', 'show', 'table', '7911')).trim()).toBe('');
        expect((await inA('ip', '-6', 'rule', 'show', 'table', '7911')).trim()).toBe('');
        expect((await inA('ip', 'route', 'show', 'table', 'all')).includes(oldVip)).toBe(false);
        expect((await inA('ip', '-6', 'route', 'show', 'table', 'all')).includes('fd00:77::77')).toBe(false);
        expect(await inA('ip', 'route', 'get', oldVip)).not.toMatch(/^local /);
        expect(await inA('nft', 'list', 'tables', 'arp')).toBe('table arp keep_me\n');
        expect(await inA('ip', 'rule', 'show', 'priority', '100')).toMatch(/192\.0\.2\.0\/24 lookup main/);

        // A linger of this process works as before, and its close ends it.
        await host.lingerVips('VI_1', [vip], 60_000);
        expect(await inA('ip', 'route', 'get', vip)).toMatch(/^local /);
        expect(await inA('nft', 'list', 'tables', 'arp')).toMatch(/lvsfleet_linger_VI_1/);
      } finally {
        await host.close();
      }
      expect(await inA('ip', 'route', 'get', vip)).not.toMatch(/^local /);
      expect(await inA('nft', 'list', 'tables', 'arp')).toBe('table arp keep_me\n');
    } finally {
      await lab.destroy();
    }
  }, 60_000);
});
