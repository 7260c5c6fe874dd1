import { describe, expect, it } from 'vitest';
import { parseProcIpvs } from './proc-ip-vs.ts';

describe('/proc/net/ip_vs', () => {
  it('reads active connections per destination from hex addresses', () => {
    const text = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  C0A80196:0050 wlc persistent 50
  -> C0A80185:0050      Route   1      0          0
  -> C0A80184:0050      Route   2      7          3
FWM  00000007 sh
  -> 0A630102:0000      Tunnel  3      1          0
`;
    const m = parseProcIpvs(text);
    expect(m.get('tcp:192.168.1.150:80|192.168.1.132:80')).toBe(7);
    expect(m.get('tcp:192.168.1.150:80|192.168.1.133:80')).toBe(0);
    expect(m.get('fwmark:7|10.99.1.2:0')).toBe(1);
  });
});
