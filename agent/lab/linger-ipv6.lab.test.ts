import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copiesRuleset, holdRuleset, nftScript } from '../src/dataplane/unsynced-hold.ts';
import { createLinuxVrrpHost } from '../src/dataplane/vrrp-host-linux.ts';
import { echoClientScript, jsonLines } from './echo-client.ts';
import { within } from '#shared/util/wait-for.test-support.ts';
import { destroyAllLabs, NetnsLab, netnsUnavailable } from './netns.ts';

const skip = netnsUnavailable(['nft', 'ping']);
if (skip) console.log(`netns linger-ipv6 lab skipped: ${skip}`);

afterAll(destroyAllLabs);

/** Prints each datagram it gets on port 7001 (any address of the host, both families). */
const RECEIVER = `require('node:dgram').createSocket('udp6').on('message', (m) => process.stdout.write(m + '\\n')).bind(7001, '::');`;
/** Echoes on port 7000 and prints what it received (its echo cannot leave from a VIP a no longer has). */
const ECHO = `require('node:net').createServer((c) => c.on('error', () => {}).on('data', (d) => process.stdout.write(d)).pipe(c)).listen(7000, '::');`;
/** Sends one datagram argv[1] to [argv[2]]:7001. */
const SENDER = `const s = require('node:dgram').createSocket('udp6'); s.send(process.argv[1], 7001, process.argv[2], () => s.close());`;

/**
 * The IPv6 half of a leaving MASTER's linger (the hand-over's make-before-break): with its VIP
 * gone from the interface, a `-6` policy rule and a local route keep packets to it delivered
 * locally (to IPVS, on a director), and neighbour discovery does not answer for it, so clients
 * move to the new MASTER at its unsolicited NA. No nft table is needed for that, unlike ARP: this
 * checks the claim, against the same check answered when the VIP is on the interface.
 */
describe.skipIf(!!skip)('an IPv6 VIP lingers: delivered locally, never answered by neighbour discovery (netns)', () => {
  it('a datagram to the VIP is delivered while lingering and not after; no Neighbor Advertisement for it, unlike for an address on eth0', async () => {
    const lab = new NetnsLab();
    try {
      await lab.setup(
        [
          { name: 'a', host: 11 },
          { name: 'c', host: 2 },
        ],
        { ipv6: true },
      );
      const vip = `${lab.subnet6}::50`;
      let received = '';
      lab.spawn('a', ['node', '-e', RECEIVER]).stdout!.on('data', (d: Buffer) => (received += d.toString()));
      const macA = (await lab.exec('a', ['cat', '/sys/class/net/eth0/address'])).trim();
      /** Whether a's answer to c's Neighbor Solicitation for the VIP fills c's neighbour entry. */
      const answered = async () => {
        await lab.exec('c', ['ip', '-6', 'neigh', 'flush', 'dev', 'eth0']);
        await lab.exec('c', ['ping', '-6', '-c', '1', '-W', '1', vip]).catch(() => '');
        return (await lab.exec('c', ['ip', '-6', 'neigh', 'show', vip, 'dev', 'eth0'])).includes(`lladdr ${macA}`);
      };
      /** c still points the VIP at a's MAC (as clients do until the new MASTER's NA) and sends. */
      const send = async (text: string) => {
        await lab.exec('c', ['ip', '-6', 'neigh', 'replace', vip, 'lladdr', macA, 'dev', 'eth0', 'nud', 'reachable']);
        await lab.exec('c', ['node', '-e', SENDER, text, vip]);
      };
      const waitReceived = (text: string, ms: number) => within(() => received.includes(text), ms);
      await new Promise((r) => setTimeout(r, 300)); // the receiver binds

      // The check can see an answer: with the VIP on a's eth0 (a MASTER), a answers.
      await lab.exec('a', ['ip', '-6', 'addr', 'add', `${vip}/64`, 'dev', 'eth0', 'nodad']);
      expect(await answered()).toBe(true);
      await lab.exec('a', ['ip', '-6', 'addr', 'del', `${vip}/64`, 'dev', 'eth0']);

      const host = createLinuxVrrpHost({ garpHelper: false, ip: lab.toolIn('a', 'ip'), nft: lab.toolIn('a', 'nft') });
      try {
        await host.lingerVips('VI_6', [vip], 60_000);
        expect(await lab.exec('a', ['ip', '-6', 'route', 'get', vip])).toMatch(/^local /);
        await send('while lingering');
        expect(await waitReceived('while lingering', 3000)).toBe(true);
        expect(await answered()).toBe(false);

        await host.lingerVips('VI_6', [vip], 0);
        await send('after the linger');
        expect(await waitReceived('after the linger', 1500)).toBe(false);
      } finally {
        await host.close();
      }
      expect((await lab.exec('a', ['ip', '-6', 'rule', 'show', 'table', '7911'])).trim()).toBe('');
    } finally {
      await lab.destroy();
    }
  }, 60_000);

  it("the new holder's copy of a held segment reaches the lingering director by its link-local address (dup to, ip6 table)", async () => {
    const lab = new NetnsLab();
    try {
      await lab.setup(
        [
          { name: 'a', host: 11 },
          { name: 'b', host: 12 },
          { name: 'c', host: 2 },
        ],
        { ipv6: true },
      );
      const vip = `${lab.subnet6}::50`;
      const dir = lab.scriptDir();
      writeFileSync(join(dir, 'client.js'), echoClientScript(15_000));
      let receivedByA = '';
      lab.spawn('a', ['node', '-e', ECHO]).stdout!.on('data', (d: Buffer) => (receivedByA += d.toString()));
      const mac = async (n: string) => (await lab.exec(n, ['cat', '/sys/class/net/eth0/address'])).trim();
      const [macA, macB] = [await mac('a'), await mac('b')];
      const pointClientAt = (m: string) => lab.exec('c', ['ip', '-6', 'neigh', 'replace', vip, 'lladdr', m, 'dev', 'eth0', 'nud', 'reachable']);
      await new Promise((r) => setTimeout(r, 300)); // the server listens

      // A connection through a, the MASTER.
      await lab.exec('a', ['ip', '-6', 'addr', 'add', `${vip}/128`, 'dev', 'eth0', 'nodad']);
      await pointClientAt(macA);
      const p = lab.spawn('c', ['node', join(dir, 'client.js'), vip]);
      const { lines, until } = jsonLines(p);
      await until(() => lines.length > 0, 10_000);
      expect(lines[0], 'the connection through a never echoed').toEqual({ ready: true });

      // The move, in the agents' order: a lingers, then its VIP goes; b holds, then takes the VIP.
      const hostA = createLinuxVrrpHost({ garpHelper: false, ip: lab.toolIn('a', 'ip'), nft: lab.toolIn('a', 'nft') });
      const nftB = nftScript(lab.toolIn('b', 'nft'));
      try {
        await hostA.lingerVips('VI_6', [vip], 60_000);
        await lab.exec('a', ['ip', '-6', 'addr', 'del', `${vip}/128`, 'dev', 'eth0']);
        await nftB(holdRuleset('VI_6', [vip]));
        await lab.exec('b', ['ip', '-6', 'addr', 'add', `${vip}/128`, 'dev', 'eth0', 'nodad']);
        await pointClientAt(macB);
        p.kill('SIGUSR2');
        // Held without copies: b drops the write (and its retransmissions); a never sees it.
        expect(await within(() => receivedByA.includes('two'), 1500)).toBe(false);
        // With the copies to a's link-local address (what a VRRPv3 advert comes from): the next retransmission reaches a.
        await nftB(copiesRuleset('VI_6', [vip], { address: lab.host('a').linkLocal!, device: 'eth0' }));
        expect(await within(() => receivedByA.includes('two'), 8000)).toBe(true);
        expect(receivedByA).toBe('one\ntwo\n');
        expect(await lab.exec('b', ['nft', 'list', 'table', 'ip6', 'lvsfleet_handover_VI_6'])).toMatch(/counter packets [1-9]/);
      } finally {
        await hostA.close();
      }
    } finally {
      await lab.destroy();
    }
  }, 60_000);
});
