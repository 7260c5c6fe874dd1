import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createDryRunVrrpHost } from './vrrp-host-dry-run.ts';
import { parseIpLinks } from './vrrp-host-linux.ts';
import { startGarpHelper } from './vrrp-garp-helper.ts';

describe('VRRP host pieces', () => {
  it('reads link state from `ip -j link`: UP and LOWER_UP both needed', () => {
    const json = JSON.stringify([
      { ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'] },
      { ifname: 'eth0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'] },
      { ifname: 'eth1', flags: ['NO-CARRIER', 'BROADCAST', 'MULTICAST', 'UP'] },
      { ifname: 'eth2', flags: ['BROADCAST', 'MULTICAST'] },
    ]);
    expect(parseIpLinks(json)).toEqual(
      new Map([
        ['lo', true],
        ['eth0', true],
        ['eth1', false],
        ['eth2', false],
      ]),
    );
  });

  it('the dry-run host logs what it would do and changes nothing', async () => {
    const lines: string[] = [];
    const h = createDryRunVrrpHost((l) => lines.push(l));
    await h.addVips([{ address: '192.168.1.150', prefix: 32, interface: 'eth0', label: 'eth0:vip' }]);
    await h.garp('eth0', ['192.168.1.150'], 5);
    await h.syncDaemon('master', 'eth0', 7);
    expect(lines).toEqual([
      'dry-run: ip addr add 192.168.1.150/32 dev eth0 label eth0:vip',
      'dry-run: gratuitous ARP ×5 on eth0 for 192.168.1.150',
      'dry-run: ipvsadm --start-daemon master --mcast-interface eth0 --syncid 7',
    ]);
  });

  const noPython = !existsSync('/usr/bin/python3');
  if (noPython) console.log('GARP helper test skipped: no /usr/bin/python3');
  it.skipIf(noPython)('the GARP helper reports a failure instead of dying (no such interface)', async () => {
    const h = startGarpHelper()!;
    try {
      await expect(h.send('nonexistent9', '10.77.0.1', 1, 0)).rejects.toThrow(/GARP helper/);
      // Still alive for the next request.
      await expect(h.send('nonexistent9', '10.77.0.1', 1, 0)).rejects.toThrow(/GARP helper: /);
    } finally {
      h.close();
    }
  });
});
