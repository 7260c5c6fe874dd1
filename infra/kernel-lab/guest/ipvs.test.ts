import { describe, expect, it } from 'vitest';
import { connsFromList, connsFromProc, weightsFromProc, weightsFromSave } from './ipvs.ts';
import { devBytes } from './topology.ts';

// The kernel's formats (ip_vs_ctl.c ip_vs_info_seq_show, ip_vs_conn.c ip_vs_conn_seq_show) and
// ipvsadm's for the same table. This host has no IPVS; the kernel lab's kernel-smoke scenario
// compares both readings on the guest's real tables.
const PROC_IP_VS = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  0A630032:0050 rr
  -> 0A630016:0050      Route   1      2          14
  -> 0A630015:0050      Route   0      1          30
TCP  0A630032:1F90 wrr
  -> 0A630015:1F90      Route   3      0          0
UDP  0A630032:0050 rr
  -> 0A630017:0050      Route   5      0          0
TCP  [2001:0db8:0000:0000:0000:0000:0000:0050]:0050 rr persistent 300 FFFFFFFF
  -> [2001:0db8:0000:0000:0000:0000:0001:0021]:0050      Route   2      0          0
FWM  00000001 rr
  -> 0A630015:0000      Tunnel  7      0          0
`;

const SAVE = [
  '-A -t 10.99.0.50:80 -s rr',
  '-a -t 10.99.0.50:80 -r 10.99.0.22:80 -g -w 1',
  '-a -t 10.99.0.50:80 -r 10.99.0.21:80 -g -w 0',
  '-A -t 10.99.0.50:8080 -s wrr',
  '-a -t 10.99.0.50:8080 -r 10.99.0.21:8080 -g -w 3',
  '-A -u 10.99.0.50:80 -s rr',
  '-a -u 10.99.0.50:80 -r 10.99.0.23:80 -g -w 5',
  '-A -t [2001:db8::50]:80 -s rr -p 300',
  '-a -t [2001:db8::50]:80 -r [2001:db8::1:21]:80 -g -w 2',
];

describe('IPVS tables read from /proc as ipvsadm prints them', () => {
  it("gives one TCP service's real servers and weights as -Sn does, IPv4 and IPv6", () => {
    for (const [vip, port] of [
      ['10.99.0.50', 80],
      ['10.99.0.50', 8080],
      ['[2001:db8::50]', 80],
      ['10.99.0.60', 80],
    ] as const)
      expect(weightsFromProc(PROC_IP_VS, vip, port)).toEqual(weightsFromSave(SAVE, vip, port));
    expect([...weightsFromProc(PROC_IP_VS, '10.99.0.50', 80)]).toEqual([
      ['10.99.0.22:80', 1],
      ['10.99.0.21:80', 0],
    ]);
    // The UDP service on the same address and port is another service; the fwmark's servers are no TCP service's.
    expect(weightsFromProc(PROC_IP_VS, '10.99.0.50', 80).has('10.99.0.23:80')).toBe(false);
    expect(weightsFromProc(PROC_IP_VS, '10.99.0.50', 0).size).toBe(0);
  });

  it('gives the connection table as -Lnc does, templates left out, a TUN destination of the other family kept', () => {
    const proc = `Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP 0A4D0002 88C3 0A630032 2328 0A630015 2328 ESTABLISHED     897
TCP 0A4D0002 D0F0 0A630032 0050 0A630016 0050 FIN_WAIT        101
IP  0A4D0002 0000 0A630032 0050 0A630016 0050 NONE            290
UDP 2001:0db8:0000:0000:0000:0000:0077:0002 A411 2001:0db8:0000:0000:0000:0000:0000:0050 0035 2001:0db8:0000:0000:0000:0000:0001:0021 0035 UDP             287
TCP 2001:0db8:0000:0000:0000:0000:0077:0002 A412 2001:0db8:0000:0000:0000:0000:0000:0070 0050 0A630015 0050 SYN_RECV         59
`;
    const listed = `IPVS connection entries
pro expire state       source             virtual            destination
TCP 14:57  ESTABLISHED 10.77.0.2:35011    10.99.0.50:9000    10.99.0.21:9000
TCP 01:41  FIN_WAIT    10.77.0.2:53488    10.99.0.50:80      10.99.0.22:80
IP  04:50  NONE        10.77.0.2:0        10.99.0.50:80      10.99.0.22:80
UDP 04:47  UDP         [2001:db8::77:2]:42001 [2001:db8::50]:53 [2001:db8::1:21]:53
TCP 00:59  SYN_RECV    [2001:db8::77:2]:42002 [2001:db8::70]:80 10.99.0.21:80
`;
    expect(connsFromProc(proc)).toEqual(connsFromList(listed));
    expect(connsFromProc(proc)).toHaveLength(4);
    expect(connsFromProc(proc)[0]).toEqual({
      proto: 'TCP',
      state: 'ESTABLISHED',
      source: '10.77.0.2:35011',
      virtual: '10.99.0.50:9000',
      dest: '10.99.0.21:9000',
    });
  });

  it("reads an interface's byte counters from /proc/net/dev, and names a missing one", () => {
    const dev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     840      10    0    0    0     0          0         0      840      10    0    0    0     0       0          0
  eth0: 2145903    1520    0    0    0     0          0        12   98211     800    0    0    0     0       0          0
`;
    expect(devBytes(dev, 'eth0')).toEqual({ rx: 2145903, tx: 98211 });
    expect(() => devBytes(dev, 'eth1')).toThrow(/no eth1/);
  });
});
