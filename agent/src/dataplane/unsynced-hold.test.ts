import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { copiesRuleset, holdRuleset, holdTable, nftScript, releaseRuleset, UnsyncedHolds } from './unsynced-hold.ts';

describe('holding unsynced connections (nft)', () => {
  it('one atomic table per instance: mid-stream TCP to the VIPs that conntrack finds new or invalid is dropped, per family', () => {
    expect(holdTable('VI 1.a')).toBe('lvsfleet_hold_VI_1_a');
    const dropAll = [
      'table inet lvsfleet_hold_VI_1',
      'delete table inet lvsfleet_hold_VI_1',
      'table ip lvsfleet_handover_VI_1',
      'delete table ip lvsfleet_handover_VI_1',
      'table ip6 lvsfleet_handover_VI_1',
      'delete table ip6 lvsfleet_handover_VI_1',
    ];
    expect(holdRuleset('VI_1', ['10.99.0.50', '2001:db8::50', '10.99.0.60'])).toBe(
      [
        ...dropAll,
        'table inet lvsfleet_hold_VI_1 {',
        '  chain unsynced {',
        '    type filter hook input priority 101; policy accept;',
        '    ip daddr { 10.99.0.50, 10.99.0.60 } tcp flags & (syn | rst) == 0 ct state new,invalid drop',
        '    ip6 daddr { 2001:db8::50 } tcp flags & (syn | rst) == 0 ct state new,invalid drop',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    // The release removes the copies' tables too (a stale one from a crash included).
    expect(releaseRuleset('VI_1')).toBe([...dropAll, ''].join('\n'));
  });

  it('after a hand-over: copies of what is held go to the director that handed over, before the hold drops them, with a TTL that cannot loop', () => {
    expect(copiesRuleset('VI_1', ['10.99.0.50', '2001:db8::50'], { address: '10.99.0.11', device: 'eth0' }).split('\n')).toEqual([
      'table ip lvsfleet_handover_VI_1 {',
      '  chain copies {',
      '    type filter hook input priority 100; policy accept;',
      '    ip daddr { 10.99.0.50 } tcp flags & (syn | rst) == 0 ct state new,invalid ip ttl > 2 ip ttl set 3 counter dup to 10.99.0.11 device "eth0"',
      '  }',
      '}',
      '',
    ]);
    // The hold (101) runs after the copies (100), both after IPVS (99); it removes earlier copies.
    expect(holdRuleset('VI_1', ['10.99.0.50'])).toContain('    type filter hook input priority 101; policy accept;');
    expect(holdRuleset('VI_1', ['10.99.0.50'])).toContain('delete table ip lvsfleet_handover_VI_1');
    const v6 = copiesRuleset('VI_6', ['2001:db8::50'], { address: 'fe80::11', device: 'eth1' });
    expect(v6).toContain('table ip6 lvsfleet_handover_VI_6 {');
    expect(v6).toContain(
      'ip6 daddr { 2001:db8::50 } tcp flags & (syn | rst) == 0 ct state new,invalid ip6 hoplimit > 2 ip6 hoplimit set 3 counter dup to fe80::11 device "eth1"',
    );
    // Nothing of the other family to copy: no script.
    expect(copiesRuleset('VI_1', ['2001:db8::50'], { address: '10.99.0.11', device: 'eth0' })).toBe('');
  });

  it('the copies run apart from the hold: a kernel refusing them leaves the hold in place, and says so', async () => {
    const runs: string[] = [];
    const holds = new UnsyncedHolds(async (s) => {
      if (s.includes(' dup ')) throw new Error('nft: Error: Could not process rule: No such file or directory');
      runs.push(s);
    });
    await expect(holds.set('VI_1', ['10.99.0.50'], null, { address: '10.99.0.11', device: 'eth0' })).rejects.toThrow(
      'copies to 10.99.0.11 (the hold is in place): nft: Error',
    );
    expect(runs).toEqual([holdRuleset('VI_1', ['10.99.0.50'])]);
    holds.close();
  });

  it('a timed release runs after the hold, in order, and a new hold cancels it', async () => {
    const runs: string[] = [];
    const holds = new UnsyncedHolds(async (s) => void runs.push(s.includes('{') ? 'hold' : 'release'));
    await holds.set('VI_1', ['10.99.0.50'], 50);
    await waitFor(() => runs.length === 2, { what: 'the timed release' });
    expect(runs).toEqual(['hold', 'release']);
    await holds.set('VI_1', ['10.99.0.50'], 50);
    await holds.set('VI_1', ['10.99.0.50'], null);
    await new Promise((r) => setTimeout(r, 120));
    expect(runs).toEqual(['hold', 'release', 'hold', 'hold']);
    await holds.set('VI_1', ['10.99.0.50'], 0);
    expect(runs.at(-1)).toBe('release');
    holds.close();
  });

  it('a hold asked for while nft is still installing a timed one cancels its release (nft takes seconds on a starved host)', async () => {
    const runs: string[] = [];
    let slow: () => void = () => {};
    const holds = new UnsyncedHolds(async (s) => {
      const what = s.split('\n')[2] === '' ? 'release' : 'hold';
      if (what === 'hold' && !runs.length) await new Promise<void>((r) => (slow = r));
      runs.push(what);
    });
    const timed = holds.set('VI_1', ['10.99.0.50'], 50);
    const held = holds.set('VI_1', ['10.99.0.50'], null);
    await new Promise((r) => setTimeout(r, 20));
    slow();
    await Promise.all([timed, held]);
    await new Promise((r) => setTimeout(r, 120));
    expect(runs).toEqual(['hold', 'hold']);
    holds.close();
  });

  it('hands the script to nft on stdin and reports its error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nft-'));
    try {
      const bin = join(dir, 'nft');
      writeFileSync(bin, `#!/bin/sh\necho "$*" > ${dir}/args\ncat > ${dir}/stdin\ngrep -q fail ${dir}/stdin && { echo "Error: no" >&2; exit 1; }\nexit 0\n`);
      chmodSync(bin, 0o755);
      const run = nftScript(bin);
      await run(releaseRuleset('VI_1'));
      expect(readFileSync(join(dir, 'args'), 'utf8')).toBe('-f -\n');
      expect(readFileSync(join(dir, 'stdin'), 'utf8')).toBe(releaseRuleset('VI_1'));
      await expect(run('fail\n')).rejects.toThrow('nft: Error: no');
      await expect(nftScript(join(dir, 'absent'))('x')).rejects.toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
