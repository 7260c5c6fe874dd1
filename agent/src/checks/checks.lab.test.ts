import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { pingCheck } from './checkers/ping.ts';
import { tcpCheck } from './checkers/tcp.ts';
import { startHealthChecker } from './health-checker.ts';
import { check, service } from './scheduler-sim.test-support.ts';
import { targetKey, type Transition } from './types.ts';

/**
 * Ping and TCP against a real server that lives in a network namespace this test creates (veth
 * from the host side, made-up 10.77.x.0/30), so "no echo reply" can be produced without touching
 * the host: the namespace's own icmp_echo_ignore_all.
 */
const sh = (...args: string[]) => execFileSync(args[0], args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const prefix = `lvshc${randomBytes(3).toString('hex')}`;
const ns = `${prefix}-rs`;
const hostIf = `${prefix}h`;
const nsIf = `${prefix}n`;
const net = randomInt(100, 250);
const hostIp = `10.77.${net}.1`;
const rsIp = `10.77.${net}.2`;

function canRunNetns(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    sh('ip', 'netns', 'add', ns);
    return true;
  } catch {
    return false;
  }
}
const ok = canRunNetns();
if (!ok) console.log('skip health-check netns lab: needs root and ip netns');

beforeAll(() => {
  if (!ok) return;
  sh('ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
  sh('ip', 'link', 'set', nsIf, 'netns', ns);
  sh('ip', 'addr', 'add', `${hostIp}/30`, 'dev', hostIf);
  sh('ip', 'link', 'set', hostIf, 'up');
  sh('ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', `${rsIp}/30`, 'dev', nsIf);
  sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', nsIf, 'up');
  sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
});
afterAll(() => {
  if (!ok) return;
  try {
    sh('ip', 'link', 'del', hostIf);
  } catch {
    // gone with the namespace
  }
  sh('ip', 'netns', 'del', ns);
});

const echoIgnore = (on: boolean) => sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw', `net.ipv4.icmp_echo_ignore_all=${on ? 1 : 0}`);

describe.skipIf(!ok)('health checks against a real server in a network namespace', () => {
  it('ping: up on echo reply, timeout when the server ignores echo', async () => {
    const c = check({ type: 'ping', address: rsIp, port: 0, timeoutMs: 500 });
    expect(await pingCheck(c, AbortSignal.timeout(500))).toEqual({ ok: true, detail: `ICMP echo reply from ${rsIp}` });
    echoIgnore(true);
    expect(await pingCheck(c, AbortSignal.timeout(500))).toEqual({ ok: false, detail: 'timeout after 500 ms' });
    echoIgnore(false);
  });

  it('tcp: a closed port in the namespace answers RST → ECONNREFUSED', async () => {
    expect(await tcpCheck(check({ address: rsIp, port: 9 }), AbortSignal.timeout(1000))).toEqual({ ok: false, detail: 'connect ECONNREFUSED' });
  });

  it('driver: a ping-checked real server goes down after its retries and comes back', async () => {
    const transitions: Transition[] = [];
    const c = check({ type: 'ping', address: rsIp, port: 0, intervalMs: 100, timeoutMs: 200, retries: 1, retryDelayMs: 50 });
    const hc = startHealthChecker({
      services: [{ ...service('icmp', [0], c), realServers: service('icmp', [0], c).realServers.map((r) => ({ ...r, address: rsIp })) }],
      onTransition: (t) => transitions.push(t),
    });
    try {
      // A first answered probe: the server was up from the start, so it is not a transition.
      await waitFor(() => hc.state().get(targetKey('icmp', rsIp, 0))?.detail === `ICMP echo reply from ${rsIp}`, { what: 'a first echo reply' });
      expect(transitions).toEqual([]);
      echoIgnore(true);
      await waitFor(() => transitions.length === 1, { what: 'the down transition' });
      expect(transitions[0]).toMatchObject({ service: 'icmp', address: rsIp, up: false, check: 'ping', detail: 'timeout after 200 ms' });
      echoIgnore(false);
      await waitFor(() => transitions.length === 2, { what: 'the up transition' });
      expect(transitions[1]).toMatchObject({ up: true, detail: `ICMP echo reply from ${rsIp}` });
    } finally {
      await hc.stop();
      echoIgnore(false);
    }
  });
});
