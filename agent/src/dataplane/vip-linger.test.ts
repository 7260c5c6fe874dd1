import { describe, expect, it } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { LINGER_IDEMPOTENT, lingerArpRuleset, lingerArpTable, lingerIpCommands, VipLingers } from './vip-linger.ts';

describe('a leaving MASTER lingering on its VIPs (ip rule/route, nft arp)', () => {
  it('ARP requests for the IPv4 VIPs are dropped, in one atomic table per instance; IPv6 needs none', () => {
    expect(lingerArpTable('VI 1.a')).toBe('lvsfleet_linger_VI_1_a');
    expect(lingerArpRuleset('VI_1', ['10.99.0.50', '2001:db8::50', '10.99.0.60'])).toBe(
      [
        'table arp lvsfleet_linger_VI_1',
        'delete table arp lvsfleet_linger_VI_1',
        'table arp lvsfleet_linger_VI_1 {',
        '  chain input {',
        '    type filter hook input priority 0; policy accept;',
        '    arp operation request arp daddr ip { 10.99.0.50, 10.99.0.60 } drop',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    expect(lingerArpRuleset('VI_1', ['2001:db8::50'])).toBe('table arp lvsfleet_linger_VI_1\ndelete table arp lvsfleet_linger_VI_1\n');
  });

  it('each VIP local to routing through a rule and a local route on lo; removed rule first', () => {
    expect(lingerIpCommands(['10.99.0.50', '2001:db8::50'], 'add')).toEqual([
      ['route', 'replace', 'local', '10.99.0.50/32', 'dev', 'lo', 'table', '7911'],
      ['rule', 'add', 'to', '10.99.0.50/32', 'lookup', '7911', 'priority', '7911'],
      ['-6', 'route', 'replace', 'local', '2001:db8::50/128', 'dev', 'lo', 'table', '7911'],
      ['-6', 'rule', 'add', 'to', '2001:db8::50/128', 'lookup', '7911', 'priority', '7911'],
    ]);
    expect(lingerIpCommands(['10.99.0.50'], 'del')).toEqual([
      ['rule', 'del', 'to', '10.99.0.50/32', 'lookup', '7911', 'priority', '7911'],
      ['route', 'del', 'local', '10.99.0.50/32', 'dev', 'lo', 'table', '7911'],
    ]);
    // A rule already there (a second linger) and a removal of what is gone are done, not errors.
    expect(LINGER_IDEMPOTENT.test('RTNETLINK answers: File exists')).toBe(true);
    expect(LINGER_IDEMPOTENT.test('RTNETLINK answers: No such process')).toBe(true);
    expect(LINGER_IDEMPOTENT.test('RTNETLINK answers: No such file or directory')).toBe(true);
    expect(LINGER_IDEMPOTENT.test('Error: FIB table does not exist.')).toBe(true);
    expect(LINGER_IDEMPOTENT.test('RTNETLINK answers: Operation not permitted')).toBe(false);
  });

  it('ARP quiet before the VIPs are local, until after they are not; the timed end runs in order and a new set cancels it; close ends all', async () => {
    const runs: string[] = [];
    const lingers = new VipLingers(
      async (s) => void runs.push(s.includes('{') ? 'arp quiet' : 'arp back'),
      async (cmds) => (runs.push(`ip ${cmds[0]![1]}`), []),
    );
    await lingers.set('VI_1', ['10.99.0.50'], 50);
    expect(runs).toEqual(['arp quiet', 'ip replace']);
    await waitFor(() => runs.length === 4, { what: 'the timed end' });
    expect(runs.slice(2)).toEqual(['ip del', 'arp back']);
    await lingers.set('VI_1', ['10.99.0.50'], 50);
    await lingers.set('VI_1', ['10.99.0.50'], 0);
    await new Promise((r) => setTimeout(r, 120));
    expect(runs.slice(4)).toEqual(['arp quiet', 'ip replace', 'ip del', 'arp back']);
    await lingers.set('VI_1', ['10.99.0.50'], 60_000);
    await lingers.close();
    expect(runs.slice(-2)).toEqual(['ip del', 'arp back']);
  });

  it('errors of ip and nft are reported together, after every step was tried', async () => {
    const lingers = new VipLingers(
      async () => {
        throw new Error('nft: no arp family');
      },
      async () => ['ip rule add …: Operation not permitted'],
    );
    await expect(lingers.set('VI_1', ['10.99.0.50'], 0)).rejects.toThrow('ip rule add …: Operation not permitted; nft: no arp family');
  });
});
