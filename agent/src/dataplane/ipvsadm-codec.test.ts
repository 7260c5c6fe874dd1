import { describe, expect, it } from 'vitest';
import { parseLine, parseSave, renderBatch, renderSave } from './ipvsadm-codec.ts';
import { parseProcIpvs } from './proc-ip-vs.ts';

// Golden vector: the shape `ipvsadm -Sn` prints (ipvsadm.c print_service_entry with FMT_RULE).
const SAVE = `-A -t 192.168.1.150:80 -s wlc -p 50
-a -t 192.168.1.150:80 -r 192.168.1.132:80 -g -w 2
-a -t 192.168.1.150:80 -r 192.168.1.133:80 -g -w 1
-A -u 10.99.0.53:53 -s rr -o
-a -u 10.99.0.53:53 -r 10.99.1.1:5353 -m -w 1 -x 100 -y 10
-A -f 7 -s sh -p 300 -M 255.255.255.0 -b sh-fallback,sh-port
-a -f 7 -r 10.99.1.2:0 -i -w 3
-A --sctp-service 10.99.0.60:9000 -s mh -b flag-1
`;

describe('ipvsadm codec', () => {
  it('parses -Sn output with persistence, netmask, one-packet, fwmark, sctp, thresholds and flags', () => {
    const t = parseSave(SAVE);
    expect(t).toHaveLength(4);
    expect(t[0]).toMatchObject({
      protocol: 'tcp',
      address: '192.168.1.150',
      port: 80,
      scheduler: 'wlc',
      persistence: { timeoutS: 50, netmask: '255.255.255.255' },
    });
    expect(t[0].dests.map((d) => [d.address, d.weight, d.forwarding])).toEqual([
      ['192.168.1.132', 2, 'dr'],
      ['192.168.1.133', 1, 'dr'],
    ]);
    expect(t[1]).toMatchObject({ protocol: 'udp', onePacket: true });
    expect(t[1].dests[0]).toEqual({ address: '10.99.1.1', port: 5353, forwarding: 'nat', weight: 1, upperThreshold: 100, lowerThreshold: 10 });
    expect(t[2]).toMatchObject({ fwmark: 7, address: null, flags: ['sh-fallback', 'sh-port'], persistence: { timeoutS: 300, netmask: '255.255.255.0' } });
    expect(t[2].dests[0].forwarding).toBe('tun');
    expect(t[3]).toMatchObject({ protocol: 'sctp', flags: ['mh-fallback'] });
  });

  it('renders what it parses, byte for byte (flag-1 normalised to its name)', () => {
    expect(renderSave(parseSave(SAVE))).toBe(SAVE.replace('-b flag-1', '-b mh-fallback'));
  });

  it('renders restore lines for every operation', () => {
    const service = parseSave(SAVE)[0];
    const dest = service.dests[0];
    expect(
      renderBatch([
        { op: 'edit-service', service },
        { op: 'edit-dest', service, dest: { ...dest, weight: 0 } },
        { op: 'delete-dest', service, dest },
        { op: 'delete-service', service },
      ]),
    ).toBe(
      '-E -t 192.168.1.150:80 -s wlc -p 50\n-e -t 192.168.1.150:80 -r 192.168.1.132:80 -g -w 0\n-d -t 192.168.1.150:80 -r 192.168.1.132:80\n-D -t 192.168.1.150:80\n',
    );
  });

  it('rejects unknown options and malformed addresses with the line in the message', () => {
    expect(() => parseLine('-A -t 1.2.3.4:80 -s rr --frobnicate')).toThrow(/unknown option "--frobnicate"/);
    expect(() => parseLine('-A -t 1.2.3.4 -s rr')).toThrow(/bad address "1.2.3.4"/);
    expect(() => parseSave('-a -t 1.2.3.4:80 -r 10.0.0.1:80 -g -w 1\n')).toThrow(/real server before its service/);
  });
});

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
