import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IpBatch } from './vrrp-ip-batch.ts';

const noIp = !['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].some(existsSync);
if (noIp) console.log('ip batch test skipped: no iproute2');

describe.skipIf(noIp)('IpBatch', () => {
  it('maps each failure to its own command and keeps going', async () => {
    const b = new IpBatch();
    try {
      const [a, c] = await Promise.all([b.run(['addr', 'del', '10.250.250.250/32', 'dev', 'lo']), b.run(['addr', 'del', '10.250.250.251/32', 'dev', 'lo'])]);
      // Absent address, or no permission when not root: either way one error each.
      expect(a).toHaveLength(1);
      expect(c).toHaveLength(1);
      expect(await b.run(['addr', 'del', 'bad arg'])).toEqual([expect.stringMatching(/unsafe/)]);
      // Success, failure and success interleaved, many in flight: each result is its own.
      const mixed = await Promise.all(
        Array.from({ length: 60 }, (_, i) => (i % 2 ? b.run(['addr', 'del', `10.250.251.${i}/32`, 'dev', 'lo']) : b.run(['link', 'show', 'dev', 'lo']))),
      );
      mixed.forEach((errors, i) => expect(errors).toHaveLength(i % 2));
      expect(mixed[1][0]).not.toContain('lvsf-no-such0');
    } finally {
      b.close();
    }
  });
});

describe.skipIf(noIp)('IpBatch after close', () => {
  it('runs a command as its own ip process and starts no helper again (a stopped agent must be able to exit)', async () => {
    const logs: string[] = [];
    const b = new IpBatch('ip', (l) => logs.push(l));
    b.warm();
    expect(b.pid()).toBeDefined();
    b.close();
    expect(await b.run(['link', 'show', 'dev', 'lo'])).toEqual([]);
    expect(await b.run(['addr', 'del', '10.250.253.1/32', 'dev', 'lo'])).toHaveLength(1);
    b.warm();
    expect(b.pid()).toBeUndefined();
    expect(logs.filter((l) => /after the ip -batch helper was closed: run as its own process/.test(l))).toHaveLength(2);
  });
});

describe.skipIf(noIp)('IpBatch when its helper dies', () => {
  const helperPid = (b: IpBatch) => b.pid();

  it('runs in its own process group, so a signal to the agent group does not reach it', async () => {
    const b = new IpBatch();
    try {
      b.warm();
      const pid = helperPid(b)!;
      const pgrp = (p: number | 'self') => readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[2];
      expect(pgrp(pid)).toBe(String(pid));
      expect(pgrp(pid)).not.toBe(pgrp('self'));
    } finally {
      b.close();
    }
  });

  it('answers every command after the helper is killed (fallback, then a fresh helper), never throws', async () => {
    const logs: string[] = [];
    const b = new IpBatch('ip', (l) => logs.push(l));
    try {
      b.warm();
      const first = helperPid(b)!;
      // Killed while commands are in flight and before the next write: EPIPE must not escape.
      const inflight = b.run(['addr', 'del', '10.250.252.1/32', 'dev', 'lo']);
      process.kill(first, 'SIGKILL');
      const after = await Promise.all([inflight, ...Array.from({ length: 5 }, (_, i) => b.run(['addr', 'del', `10.250.252.${i + 2}/32`, 'dev', 'lo']))]);
      // Each command got its own answer: the absent address (or no permission when not root).
      for (const errors of after) expect(errors).toHaveLength(1);
      expect(await b.run(['link', 'show', 'dev', 'lo'])).toEqual([]);
      const second = helperPid(b);
      expect(second).toBeDefined();
      expect(second).not.toBe(first);
      expect(logs.some((l) => /ip -batch helper (exited|stdin)/.test(l))).toBe(true);
      expect(b.health()).toMatchObject({ name: 'ip-batch', state: 'running', restarts: 1 });
    } finally {
      b.close();
    }
  });
});
