import { describe, expect, it } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { lingerSweep, LINGER_IDEMPOTENT, lingerArpRuleset, lingerArpTable, lingerIpCommands, VipLingers } from './vip-linger.ts';

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

  it('close waits for an end already on its way (a stop ends the linger at once, then closes the host): nothing runs after it', async () => {
    const runs: string[] = [];
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const lingers = new VipLingers(
      async () => void runs.push('nft'),
      async (cmds) => {
        await slow; // the host's ip commands, still running when the host closes
        runs.push(`ip ${cmds.length}`);
        return [];
      },
    );
    const ended = lingers.set('VI_1', ['10.99.0.50', '10.99.0.60'], 0);
    let closed = false;
    const closing = lingers.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(false);
    release();
    await Promise.all([ended, closing]);
    expect(runs).toEqual(['ip 4', 'nft']);
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

  it('the sweep: every rule to the linger table (host prefixes without dstlen, as iproute2 prints them) with its route, and every linger ARP table', () => {
    const rules4 = JSON.stringify([
      { priority: 7911, src: 'all', dst: '10.99.0.50', table: '7911' },
      { priority: 7911, src: 'all', dst: '10.99.0.64', dstlen: 26, table: '7911' },
      { priority: 100, src: 'all', dst: '10.0.0.0', dstlen: 8, table: 'main' },
      { priority: 7911, src: 'all', table: '7911' },
    ]);
    const rules6 = JSON.stringify([{ priority: 7911, src: 'all', dst: '2001:db8::50', table: '7911' }]);
    const plan = lingerSweep(rules4, rules6, 'table arp lvsfleet_linger_VI_1\ntable arp filter\ntable arp lvsfleet_linger_old_2\n');
    expect(plan.ip).toEqual([
      ['rule', 'del', 'to', '10.99.0.50/32', 'lookup', '7911', 'priority', '7911'],
      ['route', 'del', 'local', '10.99.0.50/32', 'dev', 'lo', 'table', '7911'],
      ['rule', 'del', 'to', '10.99.0.64/26', 'lookup', '7911', 'priority', '7911'],
      ['route', 'del', 'local', '10.99.0.64/26', 'dev', 'lo', 'table', '7911'],
      ['-6', 'rule', 'del', 'to', '2001:db8::50/128', 'lookup', '7911', 'priority', '7911'],
      ['-6', 'route', 'del', 'local', '2001:db8::50/128', 'dev', 'lo', 'table', '7911'],
    ]);
    expect(plan.nft).toBe('delete table arp lvsfleet_linger_VI_1\ndelete table arp lvsfleet_linger_old_2\n');
    // Unreadable or empty answers sweep nothing.
    expect(lingerSweep('', 'not json', '')).toEqual({ ip: [], nft: '' });
    expect(lingerSweep('{"a":1}', '[]', 'table ip lvsfleet_linger_x')).toEqual({ ip: [], nft: '' });
  });

  it('sweeps once, before the first change, whatever instance it is for', async () => {
    const runs: string[] = [];
    let reads = 0;
    const lingers = new VipLingers(
      async (s) => void runs.push(s.startsWith('delete table') ? `nft ${s.trim()}` : 'nft'),
      async (cmds) => (runs.push(...cmds.map((c) => `ip ${c.join(' ')}`)), []),
      {
        rules: async (f) => (reads++, f === 4 ? JSON.stringify([{ priority: 7911, dst: '10.99.0.77', table: '7911' }]) : '[]'),
        arpTables: async () => 'table arp lvsfleet_linger_VI_OLD\n',
      },
    );
    await lingers.set('VI_1', ['10.99.0.50'], 0);
    expect(runs.slice(0, 3)).toEqual([
      'ip rule del to 10.99.0.77/32 lookup 7911 priority 7911',
      'ip route del local 10.99.0.77/32 dev lo table 7911',
      'nft delete table arp lvsfleet_linger_VI_OLD',
    ]);
    const after = runs.length;
    await lingers.set('VI_2', ['10.99.0.60'], 0);
    expect(reads).toBe(2);
    expect(runs.slice(after).some((r) => r.includes('10.99.0.77'))).toBe(false);
  });
});
