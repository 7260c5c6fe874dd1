import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeAdvert, VRRP_GROUP6 } from '../src/vrrp/codec.ts';
import { destroyAllLabs, NetnsLab, netnsUnavailable } from './netns.ts';
import { capture, waitFor } from './pair.ts';
import { keepalivedConf6, siteSpec6 } from './pair6.ts';
import { startKeepalived } from './keepalived.ts';

const skip = netnsUnavailable(['python3', 'keepalived']);
if (skip) console.log(`netns IPv6 VRRP receive lab skipped: ${skip}`);
const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Sends one VRRP message from a host's eth0 to ff02::12 with the given hop limit, through the
 * kernel's own IPv6 stack (a raw protocol-112 socket), as another router on the link would.
 */
const SENDER = `
import socket, sys
vrrp, hops = bytes.fromhex(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 112)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'eth0')
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, hops)
s.sendto(vrrp, ('ff02::12', 0, 0, socket.if_nametoindex('eth0')))
`;

afterAll(destroyAllLabs);

describe.skipIf(!!skip)('VRRPv3 over IPv6: what our receiving socket accepts (RFC 5798 §5.1.2.3, §7.1)', () => {
  it('drops adverts whose hop limit is not 255 and acts on the same advert at 255; the VIP is added nodad and deprecated', async () => {
    const lab = new NetnsLab(undefined, { prefix: `v6b${randomBytes(3).toString('hex')}` });
    try {
      await lab.setup(
        [
          { name: 'd1', host: 11 },
          { name: 'd2', host: 12 },
        ],
        { ipv6: true },
      );
      const spec = join(lab.dir, 'site.json');
      writeFileSync(spec, siteSpec6(lab, { advertMs: 1000, vrid: 61, vip: `${lab.subnet6}::50` }, { d1: 150, d2: 100 }, 'd1'));
      const out: string[] = [];
      capture(lab.spawn('d1', [process.execPath, '--import', 'tsx', join(ROOT, 'agent/lab/vrrp-runner.ts'), '--spec', spec, '--node', 'd1']), out);
      await waitFor(async () => out.some((l) => /VI_6 \w+→MASTER/.test(l)), 30_000, 'd1 MASTER');
      // The VIP went on without duplicate address detection, as keepalived adds it.
      await waitFor(async () => (await lab.exec('d1', ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0'])).includes(`${lab.subnet6}::50/64`), 10_000, 'the VIP');
      const vipLine = (await lab.exec('d1', ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0'])).split('\n').find((l) => l.includes(`${lab.subnet6}::50/64`));
      expect(vipLine).toMatch(/\bnodad\b/);
      // ...and deprecated, so the director's own connections (health checks) never leave from it.
      expect(vipLine).toMatch(/\bdeprecated\b/);
      const route = await lab.exec('d1', ['ip', '-6', 'route', 'get', lab.host('d2').address6!]);
      expect(route).not.toContain(`src ${lab.subnet6}::50 `);
      // A higher priority from d2's link-local address: a valid advert would make d1 step down.
      const source = lab.host('d2').linkLocal!;
      const vrrp = encodeAdvert({ version: 3, vrid: 61, priority: 200, intervalMs: 1000, addresses: [`${lab.subnet6}::50`], source, destination: VRRP_GROUP6 });
      const send = (hops: number) => lab.exec('d2', ['python3', '-c', SENDER, vrrp.toString('hex'), String(hops)]);
      for (const hops of [254, 1, 64]) await send(hops);
      await waitFor(async () => out.some((l) => /drops ttl=3\b/.test(l)), 10_000, 'three hop-limit drops in the runner report');
      expect(out.some((l) => /VI_6 MASTER→BACKUP/.test(l))).toBe(false);
      await send(255);
      await waitFor(async () => out.some((l) => /VI_6 MASTER→BACKUP \(higher priority 200 from fe80:/.test(l)), 10_000, 'd1 stepping down');
    } finally {
      await lab.destroy();
    }
  });

  it('a killed receiving helper is restarted and the backup keeps hearing its keepalived master', async () => {
    const lab = new NetnsLab(undefined, { prefix: `v6b${randomBytes(3).toString('hex')}` });
    const out: string[] = [];
    const ka: string[] = [];
    try {
      await lab.setup(
        [
          { name: 'd1', host: 11 },
          { name: 'd2', host: 12 },
        ],
        { ipv6: true },
      );
      const p = { advertMs: 1000, vrid: 62, vip: `${lab.subnet6}::50` };
      const spec = join(lab.dir, 'site.json');
      writeFileSync(spec, siteSpec6(lab, p, { d1: 100, d2: 150 }, 'd2'));
      capture(startKeepalived(lab, 'd2', keepalivedConf6('d2', p, 150, true)), ka);
      capture(lab.spawn('d1', [process.execPath, '--import', 'tsx', join(ROOT, 'agent/lab/vrrp-runner.ts'), '--spec', spec, '--node', 'd1']), out);
      await waitFor(async () => out.some((l) => /VI_6 INIT→BACKUP/.test(l)), 30_000, 'd1 BACKUP');
      const helpers = await lab.pidsMatching('d1', /IPV6_RECVHOPLIMIT/);
      expect(helpers).toHaveLength(1);
      process.kill(helpers[0], 'SIGKILL');
      await waitFor(async () => out.some((l) => /vrrp6-receiver:eth0: restarted after/.test(l)), 10_000, 'the receiver restarted');
      const [again] = await lab.pidsMatching('d1', /IPV6_RECVHOPLIMIT/);
      expect(again).toBeDefined();
      expect(again).not.toBe(helpers[0]);
      // Master_Down_Interval is about 3.6 s: a backup that stopped hearing adverts would take over.
      await new Promise((r) => setTimeout(r, 6_000));
      expect(out.filter((l) => /VI_6 \w+→MASTER/.test(l))).toEqual([]);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nd1:\n${out.slice(-15).join('\n')}\nkeepalived:\n${ka.slice(-10).join('\n')}`, { cause: e });
    } finally {
      await lab.destroy();
    }
  });
});
