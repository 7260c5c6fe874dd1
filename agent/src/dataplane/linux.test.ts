import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Exec, ExecOptions } from './exec.ts';
import { exec } from './exec.ts';
import { createLinuxDataplane } from './linux.ts';
import { sysctlPath, type KernelFiles } from './kernel-files.ts';

/**
 * ipvsadm against a kernel with ip_vs cannot run on this machine, so these tests script the
 * tools' answers (their real output formats) and check what the dataplane runs and makes of them.
 */
function scripted(answers: Record<string, { code?: number; stdout?: string; stderr?: string }>) {
  const calls: { cmd: string; args: string[]; opts?: ExecOptions }[] = [];
  const run: Exec = async (cmd, args, opts) => {
    calls.push({ cmd, args, opts });
    const a = answers[`${cmd} ${args.join(' ')}`.trim()] ?? answers[cmd];
    return { code: a?.code ?? 0, stdout: a?.stdout ?? '', stderr: a?.stderr ?? '' };
  };
  return { run, calls };
}

/** The kernel's files as a map (null: absent), for what cannot be set up on this host. */
function kernelFiles(contents: Record<string, string>): KernelFiles {
  return {
    read: async (path) => contents[path] ?? null,
    write: async (path, text) => void (contents[path] = text),
  };
}

describe('Linux dataplane', () => {
  it('reports IPVS_UNAVAILABLE when the kernel has no ip_vs (this host)', async () => {
    const s = scripted({
      'ipvsadm -Sn': {
        code: 2,
        stderr: "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n",
      },
    });
    await expect(createLinuxDataplane({ exec: s.run }).ipvsRead()).rejects.toMatchObject({ code: 'IPVS_UNAVAILABLE' });
  });

  it('reads -Sn plus /proc/net/ip_vs, and applies a whole plan with ONE ipvsadm -R process (not the flushing ipvsadm-restore wrapper)', async () => {
    const s = scripted({
      'ipvsadm -Sn': { stdout: '-A -t 10.99.0.50:80 -s rr\n-a -t 10.99.0.50:80 -r 10.99.1.1:80 -g -w 1\n' },
      'cat /proc/net/ip_vs': { stdout: 'TCP  0A630032:0050 rr\n  -> 0A630101:0050      Route   1      4          0\n' },
    });
    const dp = createLinuxDataplane({ exec: s.run, netns: 'lab1' });
    const snap = await dp.ipvsRead();
    expect(snap.table[0].dests[0].address).toBe('10.99.1.1');
    expect(snap.activeConns.get('tcp:10.99.0.50:80|10.99.1.1:80')).toBe(4);
    const service = { ...snap.table[0] };
    await dp.ipvsApply([
      { op: 'edit-dest', service, dest: { ...service.dests[0], weight: 5 } },
      { op: 'add-dest', service, dest: { ...service.dests[0], address: '10.99.1.2' } },
    ]);
    const restores = s.calls.filter((c) => c.cmd === 'ipvsadm' && c.args.join(' ') === '-R');
    expect(s.calls.some((c) => c.cmd === 'ipvsadm-restore' || c.args.includes('-C'))).toBe(false);
    expect(restores).toHaveLength(1);
    expect(restores[0].opts?.input).toBe('-e -t 10.99.0.50:80 -r 10.99.1.1:80 -g -w 5\n-a -t 10.99.0.50:80 -r 10.99.1.2:80 -g -w 1\n');
    expect(restores[0].opts?.netns).toBe('lab1');
  });

  it('IPv6 TUN device: creates lvs6tnl0 for its local address, leaves it when `ip -d` shows that address, changes it when not', async () => {
    const tunnel = { ifname: 'lvs6tnl0' as const, local: '2001:db8:99::23' };
    const add = 'link add name lvs6tnl0 type ip6tnl mode ip6ip6 local 2001:db8:99::23 remote any allow-localremote';
    const show = (local: string) =>
      JSON.stringify([{ ifname: 'lvs6tnl0', flags: ['UP'], linkinfo: { info_kind: 'ip6tnl', info_data: { proto: 'ip6ip6', remote: 'any', local } } }]);
    const ran = async (links: string) => {
      const s = scripted({ 'ip -j -d link show': { stdout: links } });
      await createLinuxDataplane({ exec: s.run }).ensureTunnel(tunnel);
      return s.calls.map((c) => c.args.join(' '));
    };
    expect(await ran('[]')).toEqual(['-j -d link show', add, 'link set lvs6tnl0 up']);
    // There with its address and up: nothing to run (the periodic check spawns no process for it).
    expect(await ran(show('2001:db8:99::23'))).toEqual(['-j -d link show']);
    expect(await ran(show('2001:db8:99::23').replace('"UP"', '"NOARP"'))).toEqual(['-j -d link show', 'link set lvs6tnl0 up']);
    expect(await ran(show('2001:db8:99::99'))).toEqual(['-j -d link show', add.replace('link add name', 'link set dev'), 'link set lvs6tnl0 up']);
  });

  it('tunl0: up in its sysfs flags is left alone with no process; brought up when down; created when ipip is not loaded', async () => {
    const ran = async (flags: string | null, links: string) => {
      const s = scripted({ 'ip -j -d link show': { stdout: links } });
      const files = kernelFiles(flags === null ? {} : { '/sys/class/net/tunl0/flags': flags });
      await createLinuxDataplane({ exec: s.run, kernelFiles: files }).ensureTunnel({ ifname: 'tunl0' });
      return s.calls.map((c) => c.args.join(' '));
    };
    expect(await ran(null, '[]')).toEqual(['-j -d link show', 'link add name tunl0 type ipip', 'link set tunl0 up']);
    expect(await ran('0x80\n', JSON.stringify([{ ifname: 'tunl0', flags: ['NOARP'] }]))).toEqual(['-j -d link show', 'link set tunl0 up']);
    expect(await ran('0xc1\n', '[]')).toEqual([]);
  });

  it('sysctls: read from /proc/sys on its own host (the same value `sysctl -n` prints), no process run', async () => {
    const s = scripted({});
    const dp = createLinuxDataplane({ exec: s.run });
    const viaTool = (await exec('sysctl', ['-n', 'net.ipv4.conf.lo.arp_ignore'])).stdout.trim();
    expect(await dp.readSysctl('net.ipv4.conf.lo.arp_ignore')).toBe(viaTool);
    expect(await dp.readSysctl('net.ipv4.conf.lvsfleet-no-such-if.arp_ignore')).toBeNull();
    expect(s.calls).toEqual([]);
  });

  it('sysctls in a namespace: `cat` and `tee` of the /proc/sys file through `ip netns exec`', async () => {
    const s = scripted({ 'cat /proc/sys/net/ipv4/conf/eth0.100/arp_ignore': { stdout: '0\n' }, 'cat /proc/sys/net/ipv4/conf/eth9/arp_ignore': { code: 1 } });
    const dp = createLinuxDataplane({ exec: s.run, netns: 'lab1' });
    expect(await dp.readSysctl('net.ipv4.conf.eth0/100.arp_ignore')).toBe('0');
    expect(await dp.readSysctl('net.ipv4.conf.eth9.arp_ignore')).toBeNull();
    await dp.writeSysctl('net.ipv4.conf.eth0/100.arp_ignore', '1');
    expect(s.calls.map((c) => [c.cmd, ...c.args, c.opts?.input ?? '', c.opts?.netns].join(' '))).toEqual([
      'cat /proc/sys/net/ipv4/conf/eth0.100/arp_ignore  lab1',
      'cat /proc/sys/net/ipv4/conf/eth9/arp_ignore  lab1',
      'tee /proc/sys/net/ipv4/conf/eth0.100/arp_ignore 1 lab1',
    ]);
  });

  it('sysctl keys map as sysctl(8) maps them, and a key that would leave /proc/sys is refused', async () => {
    expect(sysctlPath('net.ipv4.ip_forward')).toBe('/proc/sys/net/ipv4/ip_forward');
    expect(sysctlPath('net.ipv4.conf.eth0/100.rp_filter')).toBe('/proc/sys/net/ipv4/conf/eth0.100/rp_filter');
    for (const bad of ['net.//.x', 'net..x', '.net.x', 'net.x.', 'net./.x', 'net.a\0b']) {
      expect(() => sysctlPath(bad), bad).toThrow(/is not a sysctl name/);
    }
    const s = scripted({});
    await expect(createLinuxDataplane({ exec: s.run, netns: 'lab1' }).writeSysctl('net.//.//.etc.passwd', '1')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(s.calls).toEqual([]);
  });

  it('turns a failed batch into IPVS_REJECTED with the tool message', async () => {
    const s = scripted({ 'ipvsadm -R': { code: 1, stderr: 'Service already exists\n' } });
    const svc = { protocol: 'tcp' as const, address: '10.99.0.50', port: 80, fwmark: 0, scheduler: 'rr', flags: [], persistence: null, onePacket: false };
    await expect(createLinuxDataplane({ exec: s.run }).ipvsApply([{ op: 'add-service', service: svc }])).rejects.toMatchObject({
      code: 'IPVS_REJECTED',
      message: /Service already exists/,
    });
  });

  it('parses ip -j output for addresses of both families (labels; no link-local), links and default routes', async () => {
    const s = scripted({
      'ip -j addr show': {
        stdout: JSON.stringify([
          {
            ifname: 'lo',
            flags: ['LOOPBACK', 'UP'],
            addr_info: [
              { family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host', label: 'lo' },
              { family: 'inet', local: '10.99.0.50', prefixlen: 32, scope: 'global', label: 'lo:lvs' },
              { family: 'inet6', local: '2001:db8:6c::50', prefixlen: 128, scope: 'global' },
              { family: 'inet6', local: '::1', prefixlen: 128, scope: 'host' },
            ],
          },
          {
            ifname: 'eth0',
            flags: ['BROADCAST'],
            addr_info: [{ family: 'inet6', local: 'fe80::1c2d:3eff:fe4f:5a6b', prefixlen: 64, scope: 'link' }],
          },
        ]),
      },
      'ip -j link show': {
        stdout: JSON.stringify([
          { ifname: 'lo', flags: ['LOOPBACK', 'UP'] },
          { ifname: 'eth0', flags: ['BROADCAST'] },
        ]),
      },
    });
    const dp = createLinuxDataplane({ exec: s.run });
    expect(await dp.listAddresses()).toEqual([
      { ifname: 'lo', address: '127.0.0.1', prefix: 8, label: null },
      { ifname: 'lo', address: '10.99.0.50', prefix: 32, label: 'lo:lvs' },
      { ifname: 'lo', address: '2001:db8:6c::50', prefix: 128, label: null },
      { ifname: 'lo', address: '::1', prefix: 128, label: null },
    ]);
    expect(await dp.listLinks()).toEqual([
      { ifname: 'lo', up: true },
      { ifname: 'eth0', up: false },
    ]);
  });

  it('default routes from /proc/net/route and /proc/net/ipv6_route: gateways, a device route, not the unreachable entry', async () => {
    const files = kernelFiles({
      '/proc/net/route': [
        'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
        'eth0\t00000000\t0100630A\t0003\t0\t0\t0\t00000000\t0\t0\t0',
        'eth0\t0000630A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
        'ppp0\t00000000\t00000000\t0001\t0\t0\t200\t00000000\t0\t0\t0',
      ].join('\n'),
      '/proc/net/ipv6_route': [
        '20010db8009900000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0',
        '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000002 00000000 00000003     eth0',
        '00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo',
      ].join('\n'),
    });
    const s = scripted({});
    const dp = createLinuxDataplane({ exec: s.run, kernelFiles: files });
    expect(await dp.defaultRoutes()).toEqual([
      { gateway: '10.99.0.1', dev: 'eth0' },
      { gateway: null, dev: 'ppp0' },
      { gateway: 'fe80::1', dev: 'eth0' },
    ]);
    expect(s.calls).toEqual([]);
    // A kernel without IPv6 has no ipv6_route: no IPv6 default route, not an error.
    expect(await createLinuxDataplane({ kernelFiles: kernelFiles({ '/proc/net/route': '' }) }).defaultRoutes()).toEqual([]);
  });

  it('default routes on this host: the same as `ip -j route show default` prints, family by family', async () => {
    const viaIp = (family: string) =>
      (JSON.parse(execFileSync('ip', ['-j', family, 'route', 'show', 'default'], { encoding: 'utf8' }) || '[]') as { gateway?: string; dev: string }[]).map(
        (r) => ({ gateway: r.gateway ?? null, dev: r.dev }),
      );
    expect(await createLinuxDataplane().defaultRoutes()).toEqual([...viaIp('-4'), ...viaIp('-6')]);
  });
});

describe('exec helper', () => {
  it('kills a command at its timeout and reports EXEC_TIMEOUT; a missing binary is EXEC_NOT_FOUND', async () => {
    await expect(exec('sleep', ['5'], { timeoutMs: 100 })).rejects.toMatchObject({ code: 'EXEC_TIMEOUT' });
    await expect(exec('lvsfleet-no-such-tool', [])).rejects.toMatchObject({ code: 'EXEC_NOT_FOUND' });
    expect(await exec('cat', [], { input: 'batch\n' })).toEqual({ code: 0, stdout: 'batch\n', stderr: '' });
  });
});
