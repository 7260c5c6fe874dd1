import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copiesRuleset, holdRuleset, nftScript, releaseRuleset } from '../src/dataplane/unsynced-hold.ts';
import { LINGER_IDEMPOTENT, LINGER_TABLE, VipLingers } from '../src/dataplane/vip-linger.ts';
import { echoClientScript, jsonLines } from './echo-client.ts';
import { destroyAllLabs, NetnsLab, netnsUnavailable, sh } from './netns.ts';

const skip = netnsUnavailable(['nft', 'arping']);
if (skip) console.log(`netns handover-copies lab skipped: ${skip}`);

afterAll(destroyAllLabs);

/**
 * The make-before-break of a graceful VIP move, without IPVS (this host has none): a listening
 * socket on `a` stands in for the old director's IPVS (both take packets addressed to the VIP
 * once they are local). A client in `c` holds a connection to VIP:7000 served by `a`; the VIP
 * moves to `b` (whose hold copies unknown mid-stream TCP to `a`), `a` lingers, and the client
 * writes. The client's neighbour entry is moved by hand, as a gratuitous ARP would.
 */
const CLIENT = echoClientScript(6_000);
/** One mid-stream TCP segment (ACK+PSH, 2 bytes) from argv[1] to argv[2]:7000 through a raw socket. */
const SEGMENT = `
import socket, struct, sys
src, dst = socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2])
def csum(b):
    b += b'\\0' * (len(b) % 2)
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
tcp = struct.pack('!HHIIBBHHH', 40000, 7000, 1, 1, 5 << 4, 0x18, 1000, 0, 0) + b'hi'
c = csum(src + dst + struct.pack('!BBH', 0, 6, len(tcp)) + tcp)
tcp = tcp[:16] + struct.pack('!H', c) + tcp[18:]
socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP).sendto(tcp, (sys.argv[2], 0))
`;
/** Echoes, and prints what it received: a's answer cannot leave from a VIP a no longer has (see below). */
const SERVER = `require('node:net').createServer((c) => c.on('error', () => {}).on('data', (d) => process.stdout.write(d)).pipe(c)).listen(7000, '0.0.0.0');`;

describe.skipIf(!!skip)(
  'a graceful move: the new holder copies what it holds to the old one, which lingers (nft dup, policy routing, real TCP in netns)',
  () => {
    it('the copy reaches the lingering director; without the linger it is bounced back once, not in a loop; ARP stays quiet; nothing is left behind', async () => {
      const lab = new NetnsLab();
      try {
        await lab.setup([
          { name: 'c', host: 2 },
          { name: 'a', host: 11 },
          { name: 'b', host: 12 },
        ]);
        const vip = `${lab.subnet}.50`;
        const addrA = lab.host('a').address;
        const dir = lab.scriptDir();
        writeFileSync(join(dir, 'client.js'), CLIENT);
        const [nftA, nftB] = [nftScript(lab.toolIn('a', 'nft')), nftScript(lab.toolIn('b', 'nft'))];
        // `ip` in a's namespace, one process a command, errors as the agent's batch reports them.
        const ipA = async (cmds: string[][]) => {
          const errors: string[] = [];
          for (const args of cmds) {
            const err = await sh('ip', ['-n', lab.host('a').ns, ...args]).then(
              () => '',
              (e: Error) => e.message,
            );
            if (err && !LINGER_IDEMPOTENT.test(err)) errors.push(err);
          }
          return errors;
        };
        const lingers = new VipLingers(nftA, ipA);
        // a routes (as directors for their NAT clients do): without the TTL guard a copy a does not
        // take would go back to b, be copied again, and so on.
        await lab.exec('a', ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
        let receivedByA = '';
        lab.spawn('a', ['node', '-e', SERVER]).stdout!.on('data', (d: Buffer) => (receivedByA += d.toString()));
        const mac = async (n: string) => (await lab.exec(n, ['cat', '/sys/class/net/eth0/address'])).trim();
        const [macA, macB] = [await mac('a'), await mac('b')];
        const pointClientAt = (m: string) => lab.exec('c', ['ip', 'neigh', 'replace', vip, 'lladdr', m, 'dev', 'eth0', 'nud', 'reachable']);
        const forwarded = async () =>
          Number(
            (await lab.exec('a', ['cat', '/proc/net/snmp']))
              .split('\n')
              .filter((l) => l.startsWith('Ip:'))[1]!
              .split(/\s+/)[6],
          );

        /** One connection opened through a, then moved to b; what the client saw after writing. */
        const moveAndWrite = async (linger: boolean): Promise<void> => {
          await lab.exec('a', ['ip', 'addr', 'add', `${vip}/32`, 'dev', 'eth0']);
          await pointClientAt(macA);
          const p = lab.spawn('c', ['node', join(dir, 'client.js'), vip]);
          const { lines, until } = jsonLines(p);
          await until(() => lines.length > 0, 10_000);
          expect(lines[0], 'the connection through a never echoed').toEqual({ ready: true });
          // The move, in the agent's order: a lingers before its VIP goes; b holds (copying to a), then takes the VIP.
          if (linger) await lingers.set('VI_1', [vip], 60_000);
          await lab.exec('a', ['ip', 'addr', 'del', `${vip}/32`, 'dev', 'eth0']);
          await nftB(holdRuleset('VI_1', [vip]));
          await nftB(copiesRuleset('VI_1', [vip], { address: addrA, device: 'eth0' }));
          await lab.exec('b', ['ip', 'addr', 'add', `${vip}/32`, 'dev', 'eth0']);
          await pointClientAt(macB);
          p.kill('SIGUSR2');
          await until(() => receivedByA.includes('two'), 5_000);
          await lab.exec('b', ['ip', 'addr', 'del', `${vip}/32`, 'dev', 'eth0']);
        };

        // Without the linger: a does not take the copy (the VIP is not local there) and, routing,
        // forwards it back onto the link with TTL 1, which b holds without copying it again: one
        // forward, not a loop. A crafted segment, not a connection: a socket of a's own for the
        // connection would make a drop the copy instead of forwarding it (ip_forward drops packets
        // that early demux attached to a local socket), which is no test of the guard.
        await lab.exec('b', ['ip', 'addr', 'add', `${vip}/32`, 'dev', 'eth0']);
        await nftB(holdRuleset('VI_1', [vip]));
        await nftB(copiesRuleset('VI_1', [vip], { address: addrA, device: 'eth0' }));
        await pointClientAt(macB);
        const received = async (n: string) =>
          Number(
            (await lab.exec(n, ['cat', '/proc/net/snmp']))
              .split('\n')
              .filter((l) => l.startsWith('Ip:'))[1]!
              .split(/\s+/)[3],
          );
        const [fwd0, inB0] = [await forwarded(), await received('b')];
        await lab.exec('c', ['python3', '-c', SEGMENT, lab.host('c').address, vip]);
        await new Promise((r) => setTimeout(r, 1000));
        expect((await forwarded()) - fwd0, 'copies a forwarded back').toBe(1);
        expect((await received('b')) - inB0, 'packets b received: the segment and the one bounced copy').toBe(2);
        await lab.exec('b', ['ip', 'addr', 'del', `${vip}/32`, 'dev', 'eth0']);

        // With the linger: the copy is delivered to a (where the director's IPVS would forward it
        // to the real server). The stand-in socket receives the client's write; its echo cannot
        // leave (routing refuses a source address that is no interface's), which IPVS, forwarding
        // the client's own packet, never needs.
        await moveAndWrite(true);
        expect(receivedByA).toBe('one\ntwo\n');
        expect(await lab.exec('a', ['ip', 'route', 'show', 'table', String(LINGER_TABLE)])).toContain(`local ${vip} dev lo`);
        // Lingering, a stays quiet on ARP for the VIP: only b's MAC answers.
        await lab.exec('b', ['ip', 'addr', 'add', `${vip}/32`, 'dev', 'eth0']);
        const arp = await lab.exec('c', ['arping', '-c', '2', '-w', '2', '-i', 'eth0', vip]).catch((e: Error) => e.message);
        expect(arp.toLowerCase()).toContain(macB.toLowerCase());
        expect(arp.toLowerCase()).not.toContain(macA.toLowerCase());

        // Ended (as at the linger's time-out, a start or a stop): no rule, route or table is left; twice is harmless.
        await lingers.set('VI_1', [vip], 0);
        await lingers.set('VI_1', [vip], 0);
        await nftB(releaseRuleset('VI_1'));
        expect(await lab.exec('a', ['ip', 'rule', 'show'])).not.toContain(String(LINGER_TABLE));
        expect(await lab.exec('a', ['ip', 'route', 'show', 'table', String(LINGER_TABLE)])).toBe('');
        expect(await lab.exec('a', ['nft', 'list', 'tables'])).not.toMatch(/lvsfleet/);
        expect(await lab.exec('b', ['nft', 'list', 'tables'])).not.toMatch(/lvsfleet/);
      } finally {
        await lab.destroy();
      }
    }, 90_000);
  },
);
