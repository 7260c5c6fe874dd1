import { describe, expect, it } from 'vitest';
import type { Exec } from './exec.ts';
import { parseIpvsStats } from './ipvs-stats.ts';
import { createLinuxDataplane } from './linux.ts';
import { MemoryHost } from './memory-host.ts';

/** `ipvsadm -Ln --stats --exact` as ipvsadm 1.31 prints it (column widths included). */
const STATS = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  10.0.0.3:80                         8      132        0    34840        0
  -> 10.0.0.7:80                         4       90        0    24476        0
  -> 10.0.0.8:80                         4       42        0    10364        0
UDP  [2001:db8::1]:53                    2        2        2      120      240
  -> [2001:db8::10]:53                   2        2        2      120      240
FWM  7                                   1  1969674   103645 2938123456  4218283
  -> 10.0.0.9:0                          1  1969674   103645 2938123456  4218283
`;

const scriptedExec =
  (code: number, stdout: string, stderr = ''): Exec =>
  async () => ({ code, stdout, stderr });

describe('IPVS traffic counters', () => {
  it('parses services (IPv4, bracketed IPv6, fwmark) with their real servers', () => {
    const s = parseIpvsStats(STATS);
    expect(s.map((x) => [x.protocol, x.address, x.port, x.fwmark, x.conns, x.dests.length])).toEqual([
      ['tcp', '10.0.0.3', 80, 0, 8, 2],
      ['udp', '2001:db8::1', 53, 0, 2, 1],
      ['tcp', null, 0, 7, 1, 1],
    ]);
    expect(s[0].dests[1]).toEqual({ address: '10.0.0.8', port: 80, conns: 4, inPackets: 42, outPackets: 0, inBytes: 10364, outBytes: 0 });
    expect(s[2]).toMatchObject({ inBytes: 2938123456, outPackets: 103645 });
  });

  it('Linux: null where the host has no IPVS, the parsed table where it has', async () => {
    const noIpvs = scriptedExec(2, '', "Can't initialize ipvs: Protocol not available\n");
    expect(await createLinuxDataplane({ exec: noIpvs }).ipvsStats()).toBeNull();
    const calls: string[][] = [];
    const ok: Exec = async (cmd, args) => (calls.push([cmd, ...args]), { code: 0, stdout: STATS, stderr: '' });
    expect(await createLinuxDataplane({ exec: ok }).ipvsStats()).toHaveLength(3);
    expect(calls).toEqual([['ipvsadm', '-Ln', '--stats', '--exact']]);
    await expect(createLinuxDataplane({ exec: scriptedExec(1, '', 'Permission denied') }).ipvsStats()).rejects.toThrow(/Permission denied/);
  });

  it('memory host: its table with the counters tests set, zero elsewhere; null without ip_vs', async () => {
    const h = new MemoryHost();
    await h.ipvsApply([
      {
        op: 'add-service',
        service: { protocol: 'tcp', address: '10.0.0.3', port: 80, fwmark: 0, scheduler: 'rr', flags: [], persistence: null, onePacket: false },
      },
      {
        op: 'add-dest',
        service: { protocol: 'tcp', address: '10.0.0.3', port: 80, fwmark: 0, scheduler: 'rr', flags: [], persistence: null, onePacket: false },
        dest: { address: '10.0.0.7', port: 80, forwarding: 'dr', weight: 1, upperThreshold: 0, lowerThreshold: 0 },
      },
    ]);
    h.ipvsCounters.set('tcp:10.0.0.3:80|10.0.0.7:80', { conns: 5, inPackets: 50, outPackets: 0, inBytes: 5000, outBytes: 0 });
    const [svc] = (await h.ipvsStats())!;
    expect(svc).toMatchObject({ address: '10.0.0.3', port: 80, conns: 0 });
    expect(svc.dests[0]).toMatchObject({ address: '10.0.0.7', conns: 5, inBytes: 5000 });
    expect(await new MemoryHost({ ipvs: false }).ipvsStats()).toBeNull();
  });
});
