import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { NOT_ROOT, scriptFixture } from '../scripts/scripts.test-support.ts';
import { createDryRunVrrpHost } from './vrrp-host-dry-run.ts';
import { createLinuxVrrpHost, parseIpLinks } from './vrrp-host-linux.ts';
import { NodeEvent } from '#shared/wire/events.ts';
import { NodeStatus } from '#shared/wire/status.ts';
import { wireEvent, wireHealth, type VrrpHostEvent, type VrrpHostHealth } from './vrrp-host.ts';
import { GarpHelper } from './vrrp-garp-helper.ts';
import type { KernelFiles } from './kernel-files.ts';

describe('VRRP host pieces', () => {
  it('reads link state from `ip -j link`: UP and LOWER_UP both needed', () => {
    const json = JSON.stringify([
      { ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'] },
      { ifname: 'eth0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'] },
      { ifname: 'eth1', flags: ['NO-CARRIER', 'BROADCAST', 'MULTICAST', 'UP'] },
      { ifname: 'eth2', flags: ['BROADCAST', 'MULTICAST'] },
    ]);
    expect(parseIpLinks(json)).toEqual(
      new Map([
        ['lo', true],
        ['eth0', true],
        ['eth1', false],
        ['eth2', false],
      ]),
    );
  });

  it('the dry-run host logs what it would do and changes nothing', async () => {
    const lines: string[] = [];
    const h = createDryRunVrrpHost((l) => lines.push(l));
    await h.addVips([{ address: '192.168.1.150', prefix: 32, interface: 'eth0', label: 'eth0:vip' }]);
    await h.garp('eth0', ['192.168.1.150'], 5);
    await h.syncDaemons(['master', 'backup'], { interface: 'eth0', syncId: 7 });
    await h.syncDaemons(['backup'], { interface: 'eth1', syncId: 8, group: 'ff02::81', maxlen: 44 });
    await h.holdUnsynced('VI_1', ['192.168.1.150'], 5000);
    expect(lines).toEqual([
      'dry-run: ip addr add 192.168.1.150/32 dev eth0 label eth0:vip',
      'dry-run: gratuitous ARP ×5 on eth0 for 192.168.1.150',
      'dry-run: ipvsadm --start-daemon master --mcast-interface eth0 --syncid 7',
      'dry-run: ipvsadm --start-daemon backup --mcast-interface eth0 --syncid 7',
      'dry-run: ipvsadm --start-daemon backup --mcast-interface eth1 --syncid 8 --mcast-group ff02::81 --sync-maxlen 44',
      'dry-run: nft hold 192.168.1.150 for 5000 ms (unsynced connections, VI_1)',
    ]);
  });

  it('arping fallback: an address whose arping still runs gets no second one; once it ended, the next burst starts one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arping-'));
    const calls = join(dir, 'calls');
    const arping = join(dir, 'arping');
    // A stand-in with iputils' options: records each burst and takes a while, as a real one sending a request a second does.
    writeFileSync(arping, `#!/bin/sh\n[ "$1" = --help ] && { echo "-I device -s source"; exit 0; }\necho "$*" >> ${calls}\nsleep 0.5\n`, { mode: 0o755 });
    const h = createLinuxVrrpHost({ garpHelper: false, arping });
    try {
      const lines = () => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : []);
      // A takeover burst and two answers to lower-priority adverts while it runs.
      await Promise.all([h.garp('eth9', ['10.77.0.1', '10.77.0.2'], 3), h.garp('eth9', ['10.77.0.1', '10.77.0.2'], 3), h.garp('eth9', ['10.77.0.2'], 3)]);
      // The two addresses' arpings run at once, so either may write its line first.
      expect(lines().sort()).toEqual(['-q -U -c 3 -I eth9 -s 10.77.0.1 10.77.0.1', '-q -U -c 3 -I eth9 -s 10.77.0.2 10.77.0.2']);
      // Another interface is another announcement.
      await h.garp('eth8', ['10.77.0.1'], 3);
      await h.garp('eth9', ['10.77.0.1'], 3);
      expect(lines()).toHaveLength(4);
    } finally {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const noPython = !existsSync('/usr/bin/python3');
  if (noPython) console.log('GARP helper test skipped: no /usr/bin/python3');
  it.skipIf(noPython)('the GARP helper reports a failure instead of dying (no such interface)', async () => {
    const h = new GarpHelper();
    try {
      expect(await h.start()).toBeNull();
      await expect(h.send('nonexistent9', '10.77.0.1', 1, 0)).rejects.toThrow(/GARP helper/);
      // Still alive for the next request.
      await expect(h.send('nonexistent9', '10.77.0.1', 1, 0)).rejects.toThrow(/GARP helper: /);
    } finally {
      h.close();
    }
  });
});

const waitUntil = async (cond: () => boolean, what: string) => {
  const end = Date.now() + 5_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** PIDs of our own children whose command line matches. */
function childPids(re: RegExp): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const ppid = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1];
        return Number(ppid) === process.pid && re.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '));
      } catch {
        return false;
      }
    })
    .map(Number);
}

const noTools = !existsSync('/usr/bin/python3') || !['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].some(existsSync);
describe.skipIf(noTools)('helper supervision (real processes)', () => {
  it('a killed GARP helper is restarted, logged and reported; sends work again', async () => {
    const logs: string[] = [];
    const events: VrrpHostEvent[] = [];
    const h = new GarpHelper({ log: (l) => logs.push(l), event: (restart) => events.push({ type: 'helper_restarted', restart }) });
    try {
      expect(await h.start()).toBeNull();
      const first = h.pid()!;
      process.kill(first, 'SIGKILL');
      await waitUntil(() => h.pid() !== undefined && h.pid() !== first, 'a new GARP helper');
      // The new helper answers (an error for an interface that does not exist is an answer).
      await expect(h.send('nonexistent9', '10.77.0.1', 1, 0)).rejects.toThrow(/GARP helper: /); // 'not running' would have no colon
      expect(h.health()).toMatchObject({ name: 'garp-helper', state: 'running', restarts: 1, lastError: 'exited (SIGKILL)' });
      expect(events).toEqual([{ type: 'helper_restarted', restart: expect.objectContaining({ name: 'garp-helper', restarts: 1 }) }]);
      expect(logs.some((l) => /vrrp: garp-helper: restarted after exited \(SIGKILL\)/.test(l))).toBe(true);
    } finally {
      h.close();
    }
  });

  it('the start-up probe: helper or arping is enough; neither = degraded at start, with an event', async () => {
    const events: VrrpHostEvent[] = [];
    const noArping = createLinuxVrrpHost({ arping: '/nonexistent/arping', onEvent: (e) => events.push(e) });
    try {
      // Not root: AF_PACKET is refused, the helper is absent and so is arping.
      const root = process.getuid?.() === 0;
      expect(await noArping.probeGarp()).toBe(root);
      expect(noArping.health().status).toBe(root ? 'ok' : 'degraded');
    } finally {
      await noArping.close();
    }
    const neither = createLinuxVrrpHost({ python: null, arping: '/nonexistent/arping', onEvent: (e) => events.push(e) });
    try {
      expect(await neither.probeGarp()).toBe(false);
      const health = neither.health();
      expect(health).toMatchObject({ status: 'degraded', garpAvailable: false });
      expect(health.helpers.find((x) => x.name === 'garp-helper')).toMatchObject({ state: 'absent', lastError: 'no python3' });
      expect(events.at(-1)).toMatchObject({ type: 'garp_unavailable', detail: expect.stringMatching(/no way to send gratuitous ARP/) });
      await expect(neither.garp('lo', ['10.77.0.1'], 1)).rejects.toThrow(/arping .* cannot run/);
    } finally {
      await neither.close();
    }
  });

  it('a killed `ip monitor link` is restarted and the link table re-read at once', async () => {
    const host = createLinuxVrrpHost({ garpHelper: false });
    const seen: Map<string, boolean>[] = [];
    const stop = host.watchLinks((l) => seen.push(l));
    try {
      await waitUntil(() => childPids(/^ip -o monitor link/).length === 1, 'ip monitor');
      const [first] = childPids(/^ip -o monitor link/);
      process.kill(first, 'SIGKILL');
      // Nothing changed on the host's links: the table arrives because of the restart alone.
      await waitUntil(() => seen.length > 0, 'the link table after the restart');
      expect(seen[0].get('lo')).toBe(true);
      const [second] = childPids(/^ip -o monitor link/);
      expect(second).not.toBe(first);
      expect(host.health().helpers.find((h) => h.name === 'ip-monitor')).toMatchObject({ state: 'running', restarts: 1 });
    } finally {
      stop();
      await host.close();
    }
  });
});

describe('host health and events on the wire', () => {
  it('converts to the status field and node events the wire schemas accept', () => {
    const health: VrrpHostHealth = {
      status: 'degraded',
      garpAvailable: false,
      helpers: [{ name: 'garp-helper', state: 'absent', restarts: 0, lastError: 'x'.repeat(900), since: Date.UTC(2026, 0, 2) }],
    };
    const w = wireHealth(health);
    expect(w.helpers[0]).toMatchObject({ since: '2026-01-02T00:00:00.000Z' });
    expect(NodeStatus.parse({ nodeId: 'a.b', online: true, health: w }).health).toEqual(w);
    const at = new Date(Date.UTC(2026, 0, 2));
    const restarted = wireEvent({ type: 'helper_restarted', restart: { name: 'ip-monitor', restarts: 2, error: 'exited (SIGKILL)', delayMs: 73 } }, 'a.b', at);
    expect(NodeEvent.parse(restarted)).toEqual({
      nodeId: 'a.b',
      at: '2026-01-02T00:00:00.000Z',
      type: 'agent.helper_restarted',
      data: { helper: 'ip-monitor', restarts: 2, error: 'exited (SIGKILL)', delayMs: 73 },
    });
    expect(NodeEvent.parse(wireEvent({ type: 'garp_unavailable', detail: 'no way' }, 'a.b', at))).toMatchObject({ type: 'agent.degraded' });
    expect(NodeEvent.parse(wireEvent({ type: 'script_refused', detail: 'script /x refused: world-writable' }, 'a.b', at))).toMatchObject({
      type: 'agent.degraded',
      data: { what: 'script', detail: 'script /x refused: world-writable' },
    });
  });
});

describe.skipIf(NOT_ROOT)(`track scripts and notify hooks on the Linux host (${NOT_ROOT ?? 'root'})`, () => {
  it('run through the script policy: as the script user from an allowed directory, refused elsewhere and by default', async () => {
    const f = await scriptFixture();
    try {
      const who = await f.write('who.sh', `test "$(id -un)" = nobody`);
      const note = await f.write('note.sh', `echo "$@" > ${f.out}/notified`);
      const host = createLinuxVrrpHost({ scripts: f.launcher() });
      expect(await host.runScript(who, 2000)).toBe(true);
      expect(await host.runScript('/bin/true', 2000)).toBe(false);
      expect(await host.runScript(who, 2000, 'root')).toBe(false);
      host.notify(note, ['INSTANCE', 'VI_1', 'MASTER', '100']);
      await waitFor(() => existsSync(join(f.out, 'notified')), { what: 'the notify hook' });
      await waitFor(() => readFileSync(join(f.out, 'notified'), 'utf8') === 'INSTANCE VI_1 MASTER 100\n', { what: 'its arguments' });
      expect(await createLinuxVrrpHost().runScript(who, 2000)).toBe(false);
    } finally {
      await f.cleanup();
    }
  });

  it('runs both sync daemons at once, with the multicast group only when one is set, and stops both, putting the sysctls back (a stand-in ipvsadm records its arguments)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipvsadm-'));
    try {
      const bin = join(dir, 'ipvsadm');
      writeFileSync(bin, `#!/bin/sh\necho "$*" >> ${dir}/calls\n`);
      chmodSync(bin, 0o755);
      mkdirSync(join(dir, 'sys/net/ipv4/vs'), { recursive: true });
      writeFileSync(join(dir, 'sys/net/ipv4/vs/sync_threshold'), '3\t50\n');
      writeFileSync(join(dir, 'sys/net/ipv4/vs/expire_nodest_conn'), '0\n');
      // The kernel's files, kept under dir: /proc/sys/net/ipv4/vs/KEY is dir/sys/net/ipv4/vs/KEY.
      const under = (path: string) => join(dir, 'sys', path.replace(/^\/proc\/sys\//, ''));
      const kernelFiles: KernelFiles = {
        read: async (path) => (existsSync(under(path)) ? readFileSync(under(path), 'utf8') : null),
        write: async (path, text) => writeFileSync(under(path), text),
      };
      const host = createLinuxVrrpHost({ ipvsadm: bin, kernelFiles });
      await host.syncDaemons(['master', 'backup'], { interface: 'eth1', syncId: 7 });
      // Synced at the handshake's last ACK, not the first data (see SYNC_THRESHOLD).
      expect(readFileSync(join(dir, 'sys/net/ipv4/vs/sync_threshold'), 'utf8')).toBe('2 50');
      expect(readFileSync(join(dir, 'sys/net/ipv4/vs/expire_nodest_conn'), 'utf8')).toBe('1');
      await host.syncDaemons(['master', 'backup'], { interface: 'eth1', syncId: 7, group: 'ff02::81' });
      await host.syncDaemons(['master', 'backup'], { interface: 'eth1', syncId: 7, maxlen: 44 });
      const calls = () => readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
      expect(calls().filter((c) => c.startsWith('--start-daemon'))).toEqual([
        '--start-daemon master --mcast-interface eth1 --syncid 7',
        '--start-daemon backup --mcast-interface eth1 --syncid 7',
        '--start-daemon master --mcast-interface eth1 --syncid 7 --mcast-group ff02::81',
        '--start-daemon backup --mcast-interface eth1 --syncid 7 --mcast-group ff02::81',
        // Both roles get maxlen: a backup reads at most its own maxlen of each message.
        '--start-daemon master --mcast-interface eth1 --syncid 7 --sync-maxlen 44',
        '--start-daemon backup --mcast-interface eth1 --syncid 7 --sync-maxlen 44',
      ]);
      const before = calls().length;
      await host.syncDaemons([], { interface: 'eth1', syncId: 7 });
      expect(calls().slice(before).sort()).toEqual(['--stop-daemon backup', '--stop-daemon master']);
      // Connection sync removed: the sysctls are what they were before it started.
      expect(readFileSync(join(dir, 'sys/net/ipv4/vs/sync_threshold'), 'utf8')).toBe('3 50');
      expect(readFileSync(join(dir, 'sys/net/ipv4/vs/expire_nodest_conn'), 'utf8')).toBe('0');
      await host.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
