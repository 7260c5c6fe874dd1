import { describe, expect, it } from 'vitest';
import { realServerKey, serviceKey } from '#shared/ipvs/model.ts';
import { parseProcIpvsInSteps, procAddress, procIpvsDests } from './proc-ip-vs.ts';

/** Active connections per real server, read with no turns in between. */
const parseProcIpvs = (text: string) => parseProcIpvsInSteps(text, async () => {});

describe('/proc/net/ip_vs', () => {
  it('reads active connections per destination from hex addresses', async () => {
    const text = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  C0A80196:0050 wlc persistent 50
  -> C0A80185:0050      Route   1      0          0
  -> C0A80184:0050      Route   2      7          3
FWM  00000007 sh
  -> 0A630102:0000      Tunnel  3      1          0
`;
    const m = await parseProcIpvs(text);
    expect(m.get('tcp:192.168.1.150:80|192.168.1.132:80')).toBe(7);
    expect(m.get('tcp:192.168.1.150:80|192.168.1.133:80')).toBe(0);
    expect(m.get('fwmark:7|10.99.1.2:0')).toBe(1);
    expect(procIpvsDests(text)).toEqual([
      { service: 'tcp:192.168.1.150:80', address: '192.168.1.133', port: 80, weight: 1, activeConns: 0 },
      { service: 'tcp:192.168.1.150:80', address: '192.168.1.132', port: 80, weight: 2, activeConns: 7 },
      { service: 'fwmark:7', address: '10.99.1.2', port: 0, weight: 3, activeConns: 1 },
    ]);
  });

  it("spells the connection table's bare %pI6 addresses as the rest", () => {
    expect(['0A630032', '[2001:0db8:0000:0000:0000:0000:0000:0050]', '2001:0db8:0000:0000:0000:0000:0000:0050'].map(procAddress)).toEqual([
      '10.99.0.50',
      '2001:db8::50',
      '2001:db8::50',
    ]);
  });
});

describe('/proc/net/ip_vs over IPv6', () => {
  it('reads %pI6 addresses (all groups, zero-padded, bracketed) into the spelling ipvsadm -Sn uses, mixed families too', async () => {
    const text = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  [2001:0db8:006c:0000:0000:0000:0000:0050]:0050 rr
  -> [2001:0db8:006c:0000:0000:0000:0001:0001]:0050      Route   1      4          0
  -> [2001:0db8:006c:0000:0000:0000:0001:0002]:0050      Route   1      0          9
UDP  [fd00:0000:0000:0000:0000:0000:0000:0035]:0035 wlc persistent 300 FFFFFFFF
  -> 0A630101:0035      Tunnel  1      2          0
TCP  0A630032:01BB rr
  -> [2001:0db8:0000:0000:0000:0000:0000:0001]:01BB      Tunnel  1      3          0
FWM  00000007 sh
  -> [2001:0db8:0000:0000:0000:0000:0000:0007]:0000      Route   1      5          0
`;
    // Keys built by the model's own functions from the addresses as ipvsadm -Sn spells them.
    const key = (protocol: 'tcp' | 'udp', vip: string, port: number, rip: string) =>
      realServerKey(serviceKey({ protocol, address: vip, port, fwmark: 0 }), { address: rip, port });
    expect(Object.fromEntries(await parseProcIpvs(text))).toEqual({
      [key('tcp', '2001:db8:6c::50', 80, '2001:db8:6c::1:1')]: 4,
      [key('tcp', '2001:db8:6c::50', 80, '2001:db8:6c::1:2')]: 0,
      [key('udp', 'fd00::35', 53, '10.99.1.1')]: 2,
      [key('tcp', '10.99.0.50', 443, '2001:db8::1')]: 3,
      [realServerKey(serviceKey({ protocol: 'tcp', address: null, port: 0, fwmark: 7, family: 6 }), { address: '2001:db8::7', port: 0 })]: 5,
    });
  });

  it('awaits between() once a step has run its time, and reads the same', async () => {
    const hex = (...b: number[]) => b.map((x) => x.toString(16).toUpperCase().padStart(2, '0')).join('');
    const lines = ['IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port Scheduler Flags'];
    for (let s = 0; s < 8; s++) {
      lines.push(`TCP  ${hex(10, 99, 0, 10 + s)}:0050 wlc`);
      for (let d = 0; d < 250; d++) lines.push(`  -> ${hex(10, 100 + s, d >> 8, d & 255)}:0050      Route   1      ${d % 5}          0`);
    }
    const text = `${lines.join('\n')}\n`;
    let turns = 0;
    const stepped = await parseProcIpvsInSteps(text, async () => void turns++, 0);
    expect(stepped.size).toBe(2000);
    expect(stepped.get(realServerKey(serviceKey({ protocol: 'tcp', address: '10.99.0.17', port: 80, fwmark: 0 }), { address: '10.107.0.249', port: 80 }))).toBe(
      4,
    );
    // stepMs 0: a step ends at every 64th line: 2,010 lines and the empty one after the last newline make 31 turns.
    expect(turns).toBe(31);
    turns = 0;
    expect(await parseProcIpvsInSteps(text, async () => void turns++, 60_000)).toEqual(stepped);
    expect(turns).toBe(0);
  });
});
