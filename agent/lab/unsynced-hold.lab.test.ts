import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { holdRuleset, nftScript, releaseRuleset } from '../src/dataplane/unsynced-hold.ts';
import { echoClientScript, jsonLines } from './echo-client.ts';
import { destroyAllLabs, NetnsLab, netnsUnavailable, sh } from './netns.ts';

const skip = netnsUnavailable(['nft']);
if (skip) console.log(`netns unsynced-hold lab skipped: ${skip}`);

afterAll(destroyAllLabs);

/**
 * A client in `c` keeps one TCP connection to VIP:7000, served by `a`. The VIP moves to `b`, which
 * does not know the connection (as a new MASTER whose IPVS has not received it by connection sync
 * yet), the client writes, and the VIP moves back to `a` 1.5 s later (as the synced entry would
 * arrive). The client's neighbour entry is moved by hand, as a gratuitous ARP would.
 */
const CLIENT = echoClientScript(15_000);
const SERVER = `require('node:net').createServer((c) => c.on('error', () => {}).pipe(c)).listen(7000, '0.0.0.0');`;

describe.skipIf(!!skip)('holding unsynced connections (nft, real TCP in netns)', () => {
  it('without the hold the new holder resets a connection it does not know; with it the client retransmits and the connection survives', async () => {
    const lab = new NetnsLab();
    try {
      await lab.setup([
        { name: 'c', host: 2 },
        { name: 'a', host: 11 },
        { name: 'b', host: 12 },
      ]);
      const vip = `${lab.subnet}.50`;
      const dir = lab.scriptDir();
      writeFileSync(join(dir, 'client.js'), CLIENT);
      // nft in b's namespace, through the same runner the agent uses.
      const nftInB = join(dir, 'nft-b');
      writeFileSync(nftInB, `#!/bin/sh\nexec ip netns exec ${lab.host('b').ns} nft "$@"\n`, { mode: 0o755 });
      const nft = nftScript(nftInB);
      lab.spawn('a', ['node', '-e', SERVER]);
      const mac = async (n: string) => (await lab.exec(n, ['cat', '/sys/class/net/eth0/address'])).trim();
      const [macA, macB] = [await mac('a'), await mac('b')];
      const moveTo = async (to: 'a' | 'b') => {
        const from = to === 'a' ? 'b' : 'a';
        await lab.exec(from, ['ip', 'addr', 'del', `${vip}/32`, 'dev', 'eth0']).catch(() => '');
        await lab.exec(to, ['ip', 'addr', 'add', `${vip}/32`, 'dev', 'eth0']);
        await lab.exec('c', ['ip', 'neigh', 'replace', vip, 'lladdr', to === 'a' ? macA : macB, 'dev', 'eth0', 'nud', 'reachable']);
      };
      await moveTo('a');
      await new Promise((r) => setTimeout(r, 500)); // the echo server listening

      /** One connection through a move to b and back; what the client saw. */
      const roundTrip = async (): Promise<{ echoed?: boolean; error?: string }> => {
        const p = lab.spawn('c', ['node', join(dir, 'client.js'), vip]);
        const { lines, until } = jsonLines(p);
        await until(() => lines.length > 0, 10_000);
        expect(lines[0], 'the connection through a never echoed').toEqual({ ready: true });
        await moveTo('b');
        p.kill('SIGUSR2');
        await new Promise((r) => setTimeout(r, 1500));
        await moveTo('a');
        await until(() => lines.length > 1, 15_000);
        return lines[1] as { echoed?: boolean; error?: string };
      };

      // Control: b's own TCP stack answers the write with a reset.
      const bare = await roundTrip();
      expect(bare).toEqual({ error: 'ECONNRESET' });

      await nft(holdRuleset('VI_1', [vip, '2001:db8::50']));
      expect(await lab.exec('b', ['nft', 'list', 'table', 'inet', 'lvsfleet_hold_VI_1'])).toMatch(/ct state invalid,new drop/);
      const held = await roundTrip();
      expect(held).toEqual({ echoed: true });

      // A SYN still passes the hold: a new connection to b is refused at once, not left hanging.
      await moveTo('b');
      const refused = await lab.exec('c', [
        'node',
        '-e',
        `require('node:net').connect(7000, '${vip}').on('error', (e) => { console.log(e.code); process.exit(0); })`,
      ]);
      expect(refused.trim()).toBe('ECONNREFUSED');
      await moveTo('a');

      await nft(releaseRuleset('VI_1'));
      await nft(releaseRuleset('VI_1')); // idempotent
      expect(await sh('ip', ['netns', 'exec', lab.host('b').ns, 'nft', 'list', 'tables'])).not.toMatch(/lvsfleet_hold/);
    } finally {
      await lab.destroy();
    }
  }, 60_000);
});
