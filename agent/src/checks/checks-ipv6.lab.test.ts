import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netnsSkipReason } from '../netns-reason.test-support.ts';
import { canPing, pingCheck } from './checkers/ping.ts';
import { tcpCheck } from './checkers/tcp.ts';
import { udpCheck } from './checkers/udp.ts';
import { check } from './scheduler-sim.test-support.ts';

/**
 * Ping (ICMPv6), TCP and UDP checks over a real IPv6 link: a real server in a network namespace
 * this test makes (veth from the host side, made-up 2001:db8:6c:N::/64), where "no echo reply",
 * "port unreachable" and "destination unreachable from a router" are produced by its own kernel.
 */
const reason = netnsSkipReason() ?? (canPing('ipv6') ? null : 'a raw ICMPv6 socket needs root');
if (reason) console.log(`skipping IPv6 health-check netns lab: ${reason}`);

const ID = (process.pid % 46656).toString(36);
const NS = `v6c${ID}k`;
const HOST_IF = `v6c${ID}h`;
// 1–250, never 0: a group of 0 is not how the kernel spells it (`2001:db8:6c:0::2` reads back as
// `2001:db8:6c::2`), and the echo reply's detail names the address in the kernel's spelling.
const N = (1 + (process.pid % 250)).toString(16);
const HOST = `2001:db8:6c:${N}::1`;
const RS = `2001:db8:6c:${N}::2`;
/** A prefix the real server routes as `prohibit`: it answers with ICMPv6 destination unreachable code 1. */
const BEHIND = `2001:db8:6c:${N}ff::`;

const sh = (...args: string[]) => execFileSync(args[0], args.slice(1), { encoding: 'utf8' });
const inNs = (...args: string[]) => sh('ip', 'netns', 'exec', NS, ...args);
const echoIgnore = (on: boolean) => inNs('sysctl', '-q', '-w', `net.ipv6.icmp.echo_ignore_all=${on ? 1 : 0}`);

describe.skipIf(reason !== null)('health checks over IPv6 against a real server in a network namespace', () => {
  beforeAll(() => {
    sh('ip', 'netns', 'add', NS);
    inNs('sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1');
    sh('ip', 'link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS);
    sh('ip', 'addr', 'add', `${HOST}/64`, 'dev', HOST_IF, 'nodad');
    sh('ip', 'link', 'set', HOST_IF, 'up');
    sh('ip', '-6', 'route', 'add', `${BEHIND}/64`, 'via', RS, 'dev', HOST_IF);
    sh('ip', '-n', NS, 'addr', 'add', `${RS}/64`, 'dev', 'eth0', 'nodad');
    sh('ip', '-n', NS, 'link', 'set', 'eth0', 'up');
    sh('ip', '-n', NS, 'link', 'set', 'lo', 'up');
    sh('ip', '-n', NS, '-6', 'route', 'add', 'prohibit', `${BEHIND}/64`);
  });
  afterAll(() => {
    try {
      sh('ip', 'link', 'del', HOST_IF);
    } catch {
      // gone with the namespace
    }
    sh('ip', 'netns', 'del', NS);
  });

  it('ping: an ICMPv6 echo reply from the real server; a timeout when it ignores echo', async () => {
    const c = check({ type: 'ping', address: RS, port: 0, timeoutMs: 1000 });
    expect(await pingCheck(c, AbortSignal.timeout(1000))).toEqual({ ok: true, detail: `ICMPv6 echo reply from ${RS}` });
    echoIgnore(true);
    try {
      expect(await pingCheck({ ...c, timeoutMs: 500 }, AbortSignal.timeout(500))).toEqual({ ok: false, detail: 'timeout after 500 ms' });
    } finally {
      echoIgnore(false);
    }
  });

  it('ping: a router answering destination unreachable is down at once, with the code', async () => {
    const c = check({ type: 'ping', address: `${BEHIND}1`, port: 0, timeoutMs: 2000 });
    expect(await pingCheck(c, AbortSignal.timeout(2000))).toEqual({ ok: false, detail: 'ICMPv6 destination unreachable (code 1)' });
  });

  it('tcp and udp: a closed port answers RST / ICMPv6 port unreachable over the link', async () => {
    expect(await tcpCheck(check({ address: RS, port: 9 }), AbortSignal.timeout(1000))).toEqual({ ok: false, detail: 'connect ECONNREFUSED' });
    const u = check({ type: 'udp', address: RS, port: 9, timeoutMs: 1000, params: { payload: '00' } });
    expect(await udpCheck(u, AbortSignal.timeout(1000))).toEqual({ ok: false, detail: 'udp ECONNREFUSED' });
  });
});
