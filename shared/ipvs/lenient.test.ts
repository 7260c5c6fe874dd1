/**
 * The lenient reader: other spellings of the rules (long options, a leading `ipvsadm`, service
 * names of `ipvsadm -S`, `-p` alone) read to the same model as their `-Sn` line; what the model
 * does not hold comes back beside it; mistakes are refused with a message that says what to do.
 */
import { describe, expect, it } from 'vitest';
import { IpvsadmSyntaxError, parseLine, renderOp } from './codec.ts';
import { readRule } from './lenient.ts';

describe('lenient ipvsadm reader', () => {
  it.each([
    ['-A -t 192.168.1.150:80 -s rr -p 50', '-A -t 192.168.1.150:80 -s rr -p 50'],
    ['ipvsadm -A -t 10.10.10.213:80 -s rr', '-A -t 10.10.10.213:80 -s rr'],
    ['--add-service --tcp-service=10.0.0.1:443 --scheduler lc --persistent', '-A -t 10.0.0.1:443 -s lc -p 300'],
    ['-A -t 10.0.0.1:http -s rr', '-A -t 10.0.0.1:80 -s rr'],
    ['-a -t 10.0.0.1:https -r 10.0.0.2:https', '-a -t 10.0.0.1:443 -r 10.0.0.2:443 -g -w 1'],
    ['--add-server -t 10.0.0.1:80 --real-server 10.0.0.2:8080 --masquerading --weight 3 --u-threshold 0', '-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 3'],
    ['-A -t 10.0.0.1:80', '-A -t 10.0.0.1:80 -s wlc'],
    ['-A -u 10.0.0.1:53 -s rr --ops', '-A -u 10.0.0.1:53 -s rr -o'],
    ['-A -f 7 -s sh -b sh-port,sh-fallback -p 300 -M 255.255.255.0', '-A -f 7 -s sh -p 300 -M 255.255.255.0 -b sh-fallback,sh-port'],
    ['-t 10.0.0.1:80 -A -s rr', '-A -t 10.0.0.1:80 -s rr'],
  ])('reads %s', (input, canonical) => {
    const r = readRule(input)!;
    expect(renderOp(r.op)).toBe(canonical);
    expect(r.op).toEqual(parseLine(canonical));
  });

  it('returns what the model does not hold: the persistence engine, tunnel options, flags as written', () => {
    expect(readRule('-A -u 10.0.0.1:5060 -s rr -p 60 pe sip ops')).toMatchObject({ pe: 'sip' });
    expect(readRule('-a -t 10.0.0.1:80 -r 10.0.0.2:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum')).toMatchObject({
      tunnel: '--tun-type gue --tun-port 6080 --tun-nocsum',
    });
    const r = readRule('-A -f 9 -s mh -b mh-port,flag-3')!;
    expect(r.schedFlags).toBe('mh-port,flag-3');
    expect(r.op.service.flags).toEqual(['flag-3', 'mh-port']);
  });

  it('reads IPv6 in brackets, with service names and long options, into RFC 5952 form', () => {
    const r = readRule('ipvsadm --add-server --tcp-service [2001:DB8::0:10]:http --real-server [2001:db8::21] --gatewaying --weight 2')!;
    expect(r.op).toMatchObject({
      op: 'add-dest',
      service: { address: '2001:db8::10', port: 80, family: 6 },
      dest: { address: '2001:db8::21', port: 0, weight: 2 },
    });
    expect(readRule('-A --fwmark-service 5 --ipv6 -s rr')!.op.service).toMatchObject({ fwmark: 5, family: 6 });
  });

  it('skips blank and comment lines', () => {
    expect(readRule('')).toBeNull();
    expect(readRule('   # saved by ipvsadm')).toBeNull();
  });

  it.each([
    ['-A -t web.example.com:80 -s rr', 'host name; save with ipvsadm -Sn'],
    ['-A -t 10.0.0.1:gopher -s rr', 'unknown service name "gopher"'],
    ['-A -t 2001:db8::1:80 -s rr', 'an IPv6 address goes in brackets, like [2001:db8::10]:80'],
    ['-A -t [2001:db8::1]:gopher -s rr', 'unknown service name "gopher"'],
    ['-A -t [2001:db8::g]:80 -s rr', '"2001:db8::g" is not a valid IPv6 address'],
    ['-A -t 10.0.0.300:80 -s rr', '"10.0.0.300" is not a valid IPv4 address'],
    ['-A -s rr', 'exactly one of -t, -u, --sctp-service, -f'],
    ['-a -t 10.0.0.1:80', '-a needs -r SERVER:PORT'],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2:80 -w 70000', 'illegal weight specified'],
    ['-a -t 172.16.1.100:80 -r 172.16.1.5:80 -g ipvsadm -a -t 172.16.1.100:80 -r 172.16.1.6:80 -g', 'a second "ipvsadm" command on the same line'],
    ['-A -t 10.0.0.1:80 -s rr -z', 'unknown option "-z"'],
    ['-A -t 10.0.0.1:80 --scheduler', 'option --scheduler needs a value'],
    ['-A -t 10.0.0.1:80 -r 10.0.0.2:80', 'does not belong in a -A line'],
    ['-L -n', 'not a rule: expected -A (add service) or -a (add server), not "-L"'],
    ['-A -a -t 10.0.0.1:80', 'option -a given twice'],
  ])('rejects %s', (input, message) => {
    expect(() => readRule(input)).toThrow(IpvsadmSyntaxError);
    expect(() => readRule(input)).toThrow(message);
  });
});
