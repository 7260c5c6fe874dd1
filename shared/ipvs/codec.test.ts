/**
 * Golden vectors for the strict ipvsadm codec: `ipvsadm -Sn` output parses to the model and
 * renders back byte for byte; every restore line renders as ipvsadm reads it; anything outside
 * the grammar is refused with the word that broke it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IpvsadmSyntaxError, parseLine, parseSave, parseSaveInSteps, renderBatch, renderOp, renderSave } from './codec.ts';
import { serviceKey, type IpvsDest, type IpvsOp, type IpvsService } from './model.ts';

// The shape `ipvsadm -Sn` prints (ipvsadm.c print_service_entry with FMT_RULE).
const SAVE = `-A -t 192.168.1.150:80 -s wlc -p 50
-a -t 192.168.1.150:80 -r 192.168.1.132:80 -g -w 2
-a -t 192.168.1.150:80 -r 192.168.1.133:80 -g -w 1
-A -u 10.99.0.53:53 -s rr -o
-a -u 10.99.0.53:53 -r 10.99.1.1:5353 -m -w 1 -x 100 -y 10
-A -f 7 -s sh -p 300 -M 255.255.255.0 -b sh-fallback,sh-port
-a -f 7 -r 10.99.1.2:0 -i -w 3
-A --sctp-service 10.99.0.60:9000 -s mh -b flag-1
-A -t [2001:db8::10]:80 -s wlc -p 360 -M 64
-a -t [2001:db8::10]:80 -r [2001:db8::21]:80 -g -w 1
-a -t [2001:db8::10]:80 -r 10.99.1.3:80 -i -w 1
-A -f 9 -6 -s rr
-a -f 9 -6 -r [2001:db8::22]:0 -g -w 1
`;

const svc = (s: Partial<IpvsService>): IpvsService => ({
  protocol: 'tcp',
  address: '10.0.0.1',
  port: 80,
  fwmark: 0,
  scheduler: 'wlc',
  flags: [],
  persistence: null,
  onePacket: false,
  ...s,
});
const dest = (d: Partial<IpvsDest>): IpvsDest => ({ address: '10.0.1.1', port: 80, forwarding: 'dr', weight: 1, upperThreshold: 0, lowerThreshold: 0, ...d });

const GOLDEN: [string, IpvsOp][] = [
  [
    '-A -t 10.10.10.213:0 -s wlc -p 360',
    { op: 'add-service', service: svc({ address: '10.10.10.213', port: 0, persistence: { timeoutS: 360, netmask: '255.255.255.255' } }) },
  ],
  [
    '-E -u 10.0.0.53:53 -s wrr -o',
    { op: 'edit-service', service: svc({ protocol: 'udp', address: '10.0.0.53', port: 53, scheduler: 'wrr', onePacket: true }) },
  ],
  ['-D -f 7', { op: 'delete-service', service: svc({ address: null, port: 0, fwmark: 7 }) }],
  [
    '-a -f 7 -r 10.0.1.6:0 -i -w 65535 -x 1000 -y 10',
    {
      op: 'add-dest',
      service: svc({ address: null, port: 0, fwmark: 7 }),
      dest: dest({ address: '10.0.1.6', port: 0, forwarding: 'tun', weight: 65535, upperThreshold: 1000, lowerThreshold: 10 }),
    },
  ],
  [
    '-e --sctp-service 10.0.0.9:3868 -r 10.0.1.5:3868 -m -w 0',
    {
      op: 'edit-dest',
      service: svc({ protocol: 'sctp', address: '10.0.0.9', port: 3868 }),
      dest: dest({ address: '10.0.1.5', port: 3868, forwarding: 'nat', weight: 0 }),
    },
  ],
  ['-d -t 10.0.0.1:80 -r 10.0.1.1:80', { op: 'delete-dest', service: svc({}), dest: dest({}) }],
];

describe('ipvsadm codec', () => {
  for (const [line, op] of GOLDEN) {
    it(`round-trips ${line}`, () => {
      expect(parseLine(line)).toEqual(op);
      expect(renderOp(op)).toBe(line);
    });
  }

  it('parses -Sn output with persistence, netmask, one-packet, fwmark, sctp, thresholds and flags', () => {
    const t = parseSave(SAVE);
    expect(t).toHaveLength(6);
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

  it('renders what it parses, byte for byte (flag-1 named for its scheduler)', () => {
    expect(renderSave(parseSave(SAVE))).toBe(SAVE.replace('-b flag-1', '-b mh-fallback'));
  });

  it('renders one restore batch in order', () => {
    const service = parseSave(SAVE)[0];
    const d = service.dests[0];
    expect(
      renderBatch([
        { op: 'edit-service', service },
        { op: 'edit-dest', service, dest: { ...d, weight: 0 } },
        { op: 'delete-dest', service, dest: d },
        { op: 'delete-service', service },
      ]),
    ).toBe(
      '-E -t 192.168.1.150:80 -s wlc -p 50\n-e -t 192.168.1.150:80 -r 192.168.1.132:80 -g -w 0\n-d -t 192.168.1.150:80 -r 192.168.1.132:80\n-D -t 192.168.1.150:80\n',
    );
  });

  it.each([
    // what some ipvsadm versions print for one-packet scheduling and a persistence engine
    ['-A -u 10.0.0.1:5060 -s rr -p 60 pe sip ops', '-A -u 10.0.0.1:5060 -s rr -p 60 -o'],
    ['-A -u 10.0.0.1:53 -s rr --ops', '-A -u 10.0.0.1:53 -s rr -o'],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum', '-a -t 10.0.0.1:80 -r 10.0.0.2:80 -i -w 1'],
    // ipvsadm's defaults: scheduler wlc, weight 1, gatewaying
    ['-A -t 10.0.0.1:80', '-A -t 10.0.0.1:80 -s wlc'],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2:80', '-a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 1'],
  ])('reads %s', (input, canonical) => {
    expect(renderOp(parseLine(input))).toBe(canonical);
  });

  it.each([
    ['-A -t 10.0.0.1:80 -s rr --frobnicate', 'unknown option "--frobnicate"'],
    ['--add-service -t 10.0.0.1:80', 'unknown command "--add-service"'],
    ['-A -t 10.0.0.1:http -s rr', 'port "http" is not a number'],
    ['-A -t 1.2.3.4 -s rr', 'virtual service 1.2.3.4: expected ADDRESS:PORT'],
    ['-a -t 10.0.0.1:80 -r 10.0.1.300:80', 'real server 10.0.1.300:80: "10.0.1.300" is not a valid IPv4 address'],
    ['-A -s rr', 'exactly one of -t, -u, --sctp-service, -f'],
    ['-A -t 10.0.0.1:80 -f 3 -s rr', 'exactly one of'],
    ['-a -t 10.0.0.1:80', '-a needs -r SERVER:PORT'],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -m', 'give one of -g, -m, -i'],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2:80 -w 70000', 'illegal weight specified'],
    ['-A -t 10.0.0.1:80 -s rr -p 0', 'illegal timeout for persistent service'],
    ['-A -t 10.0.0.1:80 -s rr -M 255.255.255.0', '-M is the persistence netmask: it needs -p'],
    ['-A -t 10.0.0.1:80 -s', 'option -s needs a value'],
    ['-A -t 10.0.0.1:80 -s rr -s wlc', 'option -s given twice'],
    ['-A -t 10.0.0.1:80 -r 10.0.0.2:80', 'option -r does not belong in a -A line'],
    ['-d -t 10.0.0.1:80 -r 10.0.0.2:80 -w 1', 'option -w does not belong in a -d line'],
    ['-A -f 0 -s rr', 'fwmark must be at least 1'],
    ['-A -t 10.0.0.1:99999 -s rr', 'port out of range'],
  ])('rejects %s', (input, message) => {
    expect(() => parseLine(input)).toThrow(IpvsadmSyntaxError);
    expect(() => parseLine(input)).toThrow(message);
  });

  it('reads IPv6 as ipvsadm -Sn prints it (brackets, -f MARK -6, a prefix for -M) and stores RFC 5952 form', () => {
    const table = parseSave(SAVE);
    const v6 = table.find((s) => s.address === '2001:db8::10')!;
    expect(v6).toMatchObject({ family: 6, persistence: { timeoutS: 360, netmask: '64' } });
    expect(v6.dests.map((d) => [d.address, d.forwarding])).toEqual([
      ['2001:db8::21', 'dr'],
      ['10.99.1.3', 'tun'],
    ]);
    expect(table.find((s) => s.fwmark === 9)).toMatchObject({ family: 6, address: null });
    expect(parseLine('-A -t [2001:DB8:0::0:10]:80 -s rr').service.address).toBe('2001:db8::10');
    // The kernel keys fwmark services by family too: `-f 9` and `-f 9 -6` are two services.
    expect(parseSave('-A -f 9 -s rr\n-A -f 9 -6 -s rr\n')).toHaveLength(2);
    expect(renderOp({ op: 'delete-dest', service: svc({ address: '2001:db8::10', family: 6 }), dest: dest({ address: '2001:db8::21' }) })).toBe(
      '-d -t [2001:db8::10]:80 -r [2001:db8::21]:80',
    );
    expect(renderOp({ op: 'add-service', service: svc({ address: '2001:db8::10', family: 6, persistence: { timeoutS: 60, netmask: '128' } }) })).toBe(
      '-A -t [2001:db8::10]:80 -s wlc -p 60',
    );
  });

  it.each([
    ['-A -t 2001:db8::10:80 -s rr', 'an IPv6 address goes in brackets, like [2001:db8::10]:80'],
    ['-A -t [2001:db8::10:80 -s rr', 'expected [IPV6]:PORT'],
    ['-A -t [2001:db8::1x]:80 -s rr', '"2001:db8::1x" is not a valid IPv6 address'],
    ['-A -t [fe80::1%eth0]:80 -s rr', 'is not a valid IPv6 address'],
    ['-A -t [2001:db8::10]:80 -s rr -p 60 -M 255.255.255.0', '-M expects a prefix length from 1 to 128 for an IPv6 service'],
    ['-A -t 10.0.0.1:80 -s rr -6', '-6 is for fwmark services'],
  ])('rejects IPv6 %s', (input, message) => {
    expect(() => parseLine(input)).toThrow(message);
  });

  it('rejects -Sn output it cannot place, naming the line', () => {
    expect(() => parseSave('-a -t 1.2.3.4:80 -r 10.0.0.1:80 -g -w 1\n')).toThrow(/real server before its service/);
    expect(() => parseSave('-D -t 1.2.3.4:80\n')).toThrow(/unexpected line in ipvsadm -S output/);
    expect(() => parseSave('-A -t 1.2.3.4:80 -s rr -z\n')).toThrow('unknown option "-z" in "-A -t 1.2.3.4:80 -s rr -z"');
  });
});

describe('parseSave: the plain destination line, read without parseLine', () => {
  /** What parseLine makes of a service line and then a line: the table, or 'refused'. */
  function viaParseLine(serviceLine: string, line: string): unknown {
    const service = { ...parseLine(serviceLine).service, dests: [] as IpvsDest[] };
    let op: IpvsOp;
    try {
      op = parseLine(line);
    } catch {
      return 'refused';
    }
    if (op.op !== 'add-dest' || serviceKey(op.service) !== serviceKey(service)) return 'refused';
    service.dests.push(op.dest);
    return [service];
  }
  const viaParseSave = (serviceLine: string, line: string): unknown => {
    try {
      return parseSave(`${serviceLine}\n${line}\n`);
    } catch (e) {
      expect(e).toBeInstanceOf(IpvsadmSyntaxError);
      return 'refused';
    }
  };
  /** Mostly a value of the plain form, else a near miss: so most lines miss it by one field. */
  const pick = (plain: string[], misses: string[]) =>
    fc.oneof({ arbitrary: fc.constantFrom(...plain), weight: 4 }, { arbitrary: fc.constantFrom(...misses), weight: 1 });

  it('reads every line as parseLine does: near misses of the plain form too (zeros, ranges, spacing, other services)', () => {
    fc.assert(
      fc.property(
        fc.record({
          service: pick(
            ['-A -t 10.0.0.1:80 -s wlc', '-A -u 10.0.0.1:80 -s rr'],
            ['-A -t 10.0.0.1:080 -s wlc -p 60', '-A -f 7 -s wlc', '-A -t [2001:db8::1]:80 -s rr'],
          ),
          lead: pick([''], [' ', '\t']),
          proto: pick(['t', 'u'], ['f', 'x']),
          vip: pick(['10.0.0.1'], ['10.0.0.01', '10.0.0.2', '010.0.0.1', '[2001:db8::1]']),
          vport: pick(['80'], ['080', '81', '65536', '000080', '']),
          rip: pick(['10.1.2.3', '0.0.0.0', '255.255.255.255'], ['10.1.2.03', '256.1.2.3', '10.1.2', '1.2.3.4.5', '[2001:db8::2]', '1.2.3.-4']),
          rport: pick(['80', '0', '65535'], ['65536', '99999', '00080', '123456', '']),
          fwd: pick(['-g', '-m', '-i'], ['-q', '-g -g', '']),
          weight: pick(['0', '1', '65535'], ['65536', '007', '', '99999', '-1']),
          tail: pick([''], [' -x 5', ' -y 1', ' ', '\r', ' -6']),
        }),
        (l) => {
          const ident = l.proto === 'f' ? '-f 7' : `-${l.proto} ${l.vip}:${l.vport}`;
          const line = `${l.lead}-a ${ident} -r ${l.rip}:${l.rport} ${l.fwd} -w ${l.weight}${l.tail}`;
          expect(viaParseSave(l.service, line), line).toEqual(viaParseLine(l.service, line));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('keeps a large table as parseLine reads it, line after line', () => {
    const lines = ['-A -t 10.99.0.10:80 -s wlc', '-A -u 10.99.0.10:80 -s rr'].flatMap((svc, s) => [
      svc,
      ...Array.from(
        { length: 300 },
        (_, d) => `-a ${svc.split(' ').slice(1, 3).join(' ')} -r 10.${s}.${d >> 8}.${d & 255}:${80 + (d % 3)} ${['-g', '-m', '-i'][d % 3]} -w ${d % 9}`,
      ),
    ]);
    const table = parseSave(lines.join('\n'));
    expect(table.map((t) => t.dests.length)).toEqual([300, 300]);
    expect(table.flatMap((t) => t.dests)).toEqual(
      lines.filter((l) => l.startsWith('-a')).map((l) => (parseLine(l) as Extract<IpvsOp, { dest: IpvsDest }>).dest),
    );
  });
});

describe('parseSaveInSteps: parseSave with turns of the event loop', () => {
  /** A -Sn table of `services` services of 250 real servers each, as a 10,000-node site's director has. */
  const large = (services: number) =>
    Array.from({ length: services }, (_, s) => {
      const vip = `-t 10.99.0.${s + 10}:80`;
      const dests = Array.from({ length: 250 }, (_, d) => `-a ${vip} -r 10.${100 + s}.${d >> 8}.${d & 255}:80 -g -w ${1 + (d % 7)}\n`);
      return `-A ${vip} -s wlc\n${dests.join('')}`;
    }).join('');

  it('reads the table parseSave reads, awaiting between() once a step has run for stepMs', async () => {
    let turns = 0;
    // stepMs 0: a step ends at every 64th line: 4,016 lines (and the empty one after the last newline) make 62 turns.
    const t = await parseSaveInSteps(large(16), async () => void turns++, 0);
    expect(t).toEqual(parseSave(large(16)));
    expect(t.flatMap((s) => s.dests)).toHaveLength(4000);
    expect(turns).toBe(62);
    expect(await parseSaveInSteps(SAVE, async () => void turns++, 0)).toEqual(parseSave(SAVE));
  });

  it('does not await between() for a table read within one step', async () => {
    let turns = 0;
    expect(await parseSaveInSteps(large(2), async () => void turns++, 60_000)).toEqual(parseSave(large(2)));
    expect(turns).toBe(0);
  });

  it('refuses what parseSave refuses, with the same message, after the lines before it', async () => {
    const bad = `${large(4)}-A -t 1.2.3.4:80 -s rr -z\n`;
    let turns = 0;
    await expect(parseSaveInSteps(bad, async () => void turns++, 0)).rejects.toThrow(
      new IpvsadmSyntaxError('unknown option "-z" in "-A -t 1.2.3.4:80 -s rr -z"'),
    );
    expect(turns).toBe(15); // 1,004 lines before the bad one
    await expect(parseSaveInSteps('-a -t 1.2.3.4:80 -r 10.0.0.1:80 -g -w 1\n', async () => {})).rejects.toThrow(/real server before its service/);
  });
});
