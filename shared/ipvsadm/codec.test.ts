/**
 * Golden vectors for the ipvsadm save-line codec: lines as `ipvsadm -Sn` prints them parse to
 * the rule shown and format back to the very same line; other spellings (long options,
 * `ipvsadm` prefix, service names of `ipvsadm -S`) parse to the same rules.
 */
import { describe, expect, it } from 'vitest';
import { formatRule, IpvsadmParseError, parseRule, type Rule } from './codec.ts';

const GOLDEN: [string, Rule][] = [
  ['-A -t 192.168.1.150:80 -s rr -p 50', { kind: 'service', key: { protocol: 'tcp', address: '192.168.1.150', port: 80 }, scheduler: 'rr', persistent: 50 }],
  [
    '-a -t 192.168.1.150:80 -r 192.168.1.132:80 -g -w 2',
    { kind: 'dest', key: { protocol: 'tcp', address: '192.168.1.150', port: 80 }, address: '192.168.1.132', port: 80, forwarding: 'dr', weight: 2 },
  ],
  ['-A -u 10.0.0.53:53 -s wrr -o', { kind: 'service', key: { protocol: 'udp', address: '10.0.0.53', port: 53 }, scheduler: 'wrr', onePacket: true }],
  [
    '-a -u 10.0.0.53:53 -r 10.0.1.5:5353 -m -w 0',
    { kind: 'dest', key: { protocol: 'udp', address: '10.0.0.53', port: 53 }, address: '10.0.1.5', port: 5353, forwarding: 'nat', weight: 0 },
  ],
  [
    '-A -f 7 -s sh -b sh-fallback,sh-port -p 300 -M 255.255.255.0',
    { kind: 'service', key: { fwmark: 7 }, scheduler: 'sh', schedFlags: ['sh-fallback', 'sh-port'], persistent: 300, netmask: '255.255.255.0' },
  ],
  [
    '-a -f 7 -r 10.0.1.6:0 -i -w 65535 -x 1000 -y 10',
    { kind: 'dest', key: { fwmark: 7 }, address: '10.0.1.6', port: 0, forwarding: 'tun', weight: 65535, upperThreshold: 1000, lowerThreshold: 10 },
  ],
  [
    '-A --sctp-service 10.0.0.9:3868 -s mh -b mh-port',
    { kind: 'service', key: { protocol: 'sctp', address: '10.0.0.9', port: 3868 }, scheduler: 'mh', schedFlags: ['mh-port'] },
  ],
  ['-A -t 10.10.10.213:0 -s wlc -p 360', { kind: 'service', key: { protocol: 'tcp', address: '10.10.10.213', port: 0 }, scheduler: 'wlc', persistent: 360 }],
];

describe('ipvsadm save-line codec', () => {
  for (const [line, rule] of GOLDEN) {
    it(`round-trips ${line}`, () => {
      expect(parseRule(line)).toEqual(rule);
      expect(formatRule(rule)).toBe(line);
    });
  }

  it.each([
    ['ipvsadm -A -t 10.10.10.213:80 -s rr', '-A -t 10.10.10.213:80 -s rr'],
    ['--add-service --tcp-service=10.0.0.1:443 --scheduler lc --persistent', '-A -t 10.0.0.1:443 -s lc -p 300'],
    ['-A -t 10.0.0.1:http -s rr', '-A -t 10.0.0.1:80 -s rr'],
    ['-a -t 10.0.0.1:https -r 10.0.0.2:https', '-a -t 10.0.0.1:443 -r 10.0.0.2:443 -g -w 1'],
    ['--add-server -t 10.0.0.1:80 --real-server 10.0.0.2:8080 --masquerading --weight 3 --u-threshold 0', '-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 3'],
    ['-A -t 10.0.0.1:80', '-A -t 10.0.0.1:80 -s wlc'],
    // what ipvsadm -Sn itself prints for one-packet scheduling and a persistence engine
    ['-A -u 10.0.0.1:5060 -s rr -p 60 pe sip ops', '-A -u 10.0.0.1:5060 -s rr -p 60 --pe sip -o'],
    ['-A -u 10.0.0.1:53 -s rr --ops', '-A -u 10.0.0.1:53 -s rr -o'],
    [
      '-a -t 10.0.0.1:80 -r 10.0.0.2:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum',
      '-a -t 10.0.0.1:80 -r 10.0.0.2:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum',
    ],
  ])('reads %s', (input, canonical) => {
    expect(formatRule(parseRule(input)!)).toBe(canonical);
  });

  it('skips blank and comment lines', () => {
    expect(parseRule('')).toBeNull();
    expect(parseRule('   # saved by ipvsadm')).toBeNull();
  });

  it.each([
    ['-A -t web.example.com:80 -s rr', 'host name; save with ipvsadm -Sn'],
    ['-A -t 10.0.0.1:gopher -s rr', 'unknown service name "gopher"'],
    ['-A -t [2001:db8::1]:80 -s rr', 'IPv6 is not supported'],
    ['-A -s rr', 'exactly one of -t, -u, --sctp-service, -f'],
    ['-A -t 10.0.0.1:80 -f 3 -s rr', 'exactly one of'],
    ['-a -t 10.0.0.1:80', '-a needs -r SERVER:PORT'],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -m', 'give one of -g, -m, -i'],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2:80 -w 70000', '-w expects a number 0–65535'],
    ['-a -t 172.16.1.100:80 -r 172.16.1.5:80 -g ipvsadm -a -t 172.16.1.100:80 -r 172.16.1.6:80 -g', 'a second "ipvsadm" command on the same line'],
    ['-A -t 10.0.0.1:80 -s rr -z', 'unknown option "-z"'],
    ['-A -t 10.0.0.1:80 -s', 'option -s needs a value'],
    ['-A -t 10.0.0.1:80 -r 10.0.0.2:80', 'does not belong in this rule'],
    ['-L -n', 'unknown option "-L"'],
    ['-A -f 0 -s rr', 'fwmark must be at least 1'],
    ['-A -t 10.0.0.1:99999 -s rr', 'port out of range'],
  ])('rejects %s', (input, message) => {
    expect(() => parseRule(input)).toThrow(IpvsadmParseError);
    expect(() => parseRule(input)).toThrow(message);
  });
});
