/**
 * Scenario `ipv6`, the kernel's side of IPVS over IPv6, set up by hand on the spare directors k1
 * and k2 exactly as the agent's real-server role and dataplane do it (so what the agent relies on
 * is proved on a real kernel): a dual-stack DR service (VIP on the real servers' lo as /32 and
 * /128), replies bypassing the director on IPv6, a v6 NAT service, a v6 TUN service decapsulated
 * by a dedicated ip6ip6 device, the kernel's formats (`/proc/net/ip_vs` `%pI6`, `ipvsadm -Sn` brackets), its
 * cross-family rule, and a v6 connection carried by the sync daemon surviving a move of the VIP.
 * The VIP moves by hand (the director pair's VRRP over IPv6 is not what this proves).
 */
import type { Client } from './client-rpc.ts';
import { checkDualStackDr } from './dual-stack-dr.ts';
import { check, scenarioParts, type Harness } from './harness.ts';
import { connections, saveLines } from './ipvs.ts';
import { nsh, run, sh, sleep, waitFor } from './sh.ts';
import { ifaceBytes, NET, setLink } from './topology.ts';

const V6 = {
  client: '2001:db8:77::2',
  natClient: '2001:db8:88::2',
  k1: '2001:db8:99::13',
  k2: '2001:db8:99::14',
  rs1: '2001:db8:99::21',
  rs2: '2001:db8:99::22',
  rs3: '2001:db8:99::23',
  dr: '2001:db8:99::150',
  nat: '2001:db8:99::160',
  tun: '2001:db8:99::170',
} as const;
const DR4 = '10.99.0.150';
const SYNC_ID = '60';
const TUN6_DEV = 'lvs6tnl0';

/** `2001:db8::1` → `2001:0db8:0000:…:0001`, as the kernel's `%pI6` prints it. */
function fullIpv6(a: string): string {
  const [head, tail = ''] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

async function ipIn(ns: string, ...args: string[]): Promise<void> {
  await sh('ip', '-n', ns, ...args);
}

/** IPv6 on the lab LAN: 2001:db8:99::/64 servers, client 2001:db8:77::2 (DR/TUN) and 2001:db8:88::2 (NAT). */
async function addIpv6(): Promise<void> {
  const hosts: [string, string][] = [
    ['c', V6.client],
    ['k1', V6.k1],
    ['k2', V6.k2],
    ['rs1', V6.rs1],
    ['rs2', V6.rs2],
    ['rs3', V6.rs3],
  ];
  // nodad: the lab's own addresses are unique by construction; DAD would hold each one a second.
  for (const [ns, a] of hosts) await ipIn(ns, 'addr', 'add', `${a}/64`, 'dev', 'eth0', 'nodad');
  await ipIn('c', 'addr', 'add', `${V6.natClient}/64`, 'dev', 'eth0', 'nodad');
  await ipIn('c', 'route', 'add', '2001:db8:99::/64', 'dev', 'eth0');
  // NUD that notices the VIP's move in seconds, not the 15–45 s of the default reachable time.
  await nsh(
    'c',
    'sysctl',
    '-q',
    '-w',
    'net.ipv6.neigh.eth0.base_reachable_time_ms=2000',
    'net.ipv6.neigh.eth0.delay_first_probe_time=1',
    'net.ipv6.neigh.eth0.retrans_time_ms=300',
  );
  for (const d of ['k1', 'k2']) {
    await ipIn(d, 'route', 'add', '2001:db8:77::/64', 'dev', 'eth0');
    await ipIn(d, 'route', 'add', '2001:db8:88::/64', 'dev', 'eth0');
    await nsh(d, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1');
  }
  for (const r of ['rs1', 'rs2', 'rs3']) {
    await ipIn(r, 'route', 'add', '2001:db8:77::/64', 'dev', 'eth0');
    // LVS-NAT: replies to the NAT client must go back through the director.
    await ipIn(r, 'route', 'add', '2001:db8:88::/64', 'via', V6.k1, 'dev', 'eth0');
  }
}

/** The real servers' side, as the agent's real-server role plans it (agent/src/realserver/plan.ts). */
async function realServerSide(): Promise<void> {
  for (const r of ['rs1', 'rs2']) {
    await ipIn(r, 'addr', 'add', `${V6.dr}/128`, 'dev', 'lo');
    await ipIn(r, 'addr', 'add', `${DR4}/32`, 'dev', 'lo', 'label', 'lo:lvs');
    // IPv4 only: Neighbor Discovery already answers only for the receiving interface's addresses.
    for (const c of ['all', 'lo']) await nsh(r, 'sysctl', '-q', '-w', `net.ipv4.conf.${c}.arp_ignore=1`, `net.ipv4.conf.${c}.arp_announce=2`);
    // IPv6 NAT: take no Redirect from the director (which cannot be told not to send one), or the
    // replies go straight to the client unrewritten; without this every v6 NAT request timed out.
    await nsh(r, 'sysctl', '-q', '-w', 'net.ipv6.conf.eth0.accept_redirects=0', 'net.ipv6.conf.default.accept_redirects=0');
  }
  // TUN over IPv6: a dedicated ip6ip6 device for the real server's own address, from any remote,
  // that takes packets whose outer source is an address of this host. The director's source
  // address selection (RFC 6724 rule 8, which Linux caps at each address's prefix length) picks a
  // VIP it holds as the outer source, and rs3 holds that VIP too: the fallback ip6tnl0 drops such
  // a packet in ip6_tnl_rcv_ctl and cannot be given allow-localremote (ip6_tnl0_update).
  await ipIn('rs3', 'link', 'add', TUN6_DEV, 'type', 'ip6tnl', 'mode', 'ip6ip6', 'local', V6.rs3, 'remote', 'any', 'allow-localremote');
  await ipIn('rs3', 'link', 'set', TUN6_DEV, 'up');
  await ipIn('rs3', 'addr', 'add', `${V6.tun}/128`, 'dev', TUN6_DEV);
}

/** The director's rules: one `ipvsadm -R` batch, in ipvsadm's own bracketed IPv6 syntax. */
function directorBatch(): string {
  const b = (a: string) => `[${a}]`;
  return [
    `-A -t ${DR4}:80 -s rr`,
    `-a -t ${DR4}:80 -r ${NET.rs1}:80 -g -w 1`,
    `-a -t ${DR4}:80 -r ${NET.rs2}:80 -g -w 1`,
    `-A -t ${b(V6.dr)}:80 -s rr`,
    `-a -t ${b(V6.dr)}:80 -r ${b(V6.rs1)}:80 -g -w 1`,
    `-a -t ${b(V6.dr)}:80 -r ${b(V6.rs2)}:80 -g -w 1`,
    `-A -t ${b(V6.dr)}:9000 -s rr`,
    `-a -t ${b(V6.dr)}:9000 -r ${b(V6.rs1)}:9000 -g -w 1`,
    `-a -t ${b(V6.dr)}:9000 -r ${b(V6.rs2)}:9000 -g -w 1`,
    `-A -t ${b(V6.nat)}:80 -s rr`,
    `-a -t ${b(V6.nat)}:80 -r ${b(V6.rs1)}:8000 -m -w 1`,
    `-a -t ${b(V6.nat)}:80 -r ${b(V6.rs2)}:8000 -m -w 1`,
    `-A -t ${b(V6.tun)}:80 -s rr`,
    `-a -t ${b(V6.tun)}:80 -r ${b(V6.rs3)}:80 -i -w 1`,
    '',
  ].join('\n');
}

async function restore(ns: string, batch: string): Promise<void> {
  const r = await run(['ip', 'netns', 'exec', ns, 'ipvsadm', '-R'], batch);
  check(r.code === 0, `${ns}: ipvsadm -R refused the IPv6 batch: ${r.stderr.trim()}`);
}

/** The whole scenario; leaves k1/k2 without rules, daemons or VIPs afterwards. */
export async function ipv6Kernel(h: Harness, client: Client): Promise<void> {
  const forward = (await sh('cat', '/proc/sys/net/ipv6/conf/all/forwarding').catch(() => '')).trim();
  check(forward !== '', 'the guest kernel has no IPv6 (/proc/sys/net/ipv6 missing)');
  await addIpv6();
  await realServerSide();
  for (const v of [V6.dr, V6.nat, V6.tun]) await ipIn('k1', 'addr', 'add', `${v}/64`, 'dev', 'eth0', 'nodad');
  await ipIn('k1', 'addr', 'add', `${DR4}/32`, 'dev', 'eth0');
  await restore('k1', directorBatch());
  // Every part runs and reports, so one run shows everything the kernel does; the first failure fails the scenario.
  const { part, done } = scenarioParts(h);
  try {
    await part('kernel formats', () => kernelFormats(h));
    await part('dual-stack DR', () => checkDualStackDr(h, client, { vip4: DR4, vip6: V6.dr, client6: V6.client, director: 'k1', realServers: ['rs1', 'rs2'] }));
    await part('IPv6 NAT', () => nat6(h, client));
    await part('IPv6 TUN', () => tun6(h, client));
    await part('cross-family rule', () => crossFamily(h));
    await part('IPv6 connection sync and VIP move', () => syncAndMove(h, client));
    done();
  } finally {
    for (const d of ['k1', 'k2']) {
      await run(['ip', 'netns', 'exec', d, 'ipvsadm', '--stop-daemon', 'master']);
      await run(['ip', 'netns', 'exec', d, 'ipvsadm', '--stop-daemon', 'backup']);
      // Only k1 and k2 carry this scenario's rules (set by hand above), so clearing them is safe.
      await run(['ip', 'netns', 'exec', d, 'ipvsadm', '-C']);
      for (const v of [V6.dr, V6.nat, V6.tun]) await run(['ip', '-n', d, 'addr', 'del', `${v}/64`, 'dev', 'eth0']);
      await run(['ip', '-n', d, 'addr', 'del', `${DR4}/32`, 'dev', 'eth0']);
    }
    await run(['ip', '-n', 'rs3', 'link', 'del', TUN6_DEV]);
    await setLink('k1', true);
  }
}

/** What the agent's readers parse, as this kernel and ipvsadm print it. */
async function kernelFormats(h: Harness): Promise<void> {
  const proc = await nsh('k1', 'cat', '/proc/net/ip_vs');
  const svc = `TCP  [${fullIpv6(V6.dr)}]:0050 rr`;
  const dest = new RegExp(String.raw`^  -> \[${fullIpv6(V6.rs1)}\]:0050\s+Route\s+1\s+\d+\s+\d+`, 'm');
  h.say(`/proc/net/ip_vs (first lines): ${JSON.stringify(proc.split('\n').slice(3, 6))}`);
  check(proc.includes(svc), `/proc/net/ip_vs has no line "${svc}":\n${proc}`);
  check(dest.test(proc), `/proc/net/ip_vs has no %pI6 destination line for ${V6.rs1}:\n${proc}`);
  const save = await saveLines('k1');
  for (const want of [`-A -t [${V6.dr}]:80 -s rr`, `-a -t [${V6.dr}]:80 -r [${V6.rs1}]:80 -g -w 1`, `-a -t [${V6.nat}]:80 -r [${V6.rs2}]:8000 -m -w 1`])
    check(save.includes(want), `ipvsadm -Sn does not print "${want}":\n${save.join('\n')}`);
  const tun = save.find((l) => l.startsWith(`-a -t [${V6.tun}]:80`));
  h.say(`ipvsadm -Sn TUN line: ${tun}`);
}

/** v6 NAT: replies routed back through k1, which rewrites their source to the VIP. */
async function nat6(h: Harness, client: Client): Promise<void> {
  const nat = await client.tally(`http://[${V6.nat}]/`, 10, V6.natClient);
  h.say(`NAT over IPv6: ${JSON.stringify(nat)}`);
  if (nat.fail > 0) {
    // Where the packets stopped: k1's forwarding counters, its connection table, rs1's view.
    const snmp = async (ns: string) =>
      (await nsh(ns, 'cat', '/proc/net/snmp6'))
        .split('\n')
        .filter((l) => /^Ip6(InReceives|InNoRoutes|InAddrErrors|InDiscards|OutForwDatagrams|OutRequests|OutNoRoutes|OutDiscards)\s/.test(l))
        .map((l) => l.replace(/\s+/, '='))
        .join(' ');
    h.say(`k1 snmp6: ${await snmp('k1')}`);
    h.say(`rs1 snmp6: ${await snmp('rs1')}`);
    h.say(`k1 -Lnc: ${JSON.stringify((await connections('k1')).filter((c) => c.virtual.startsWith(`[${V6.nat}]`)).slice(0, 3))}`);
    h.say(`rs1 routes: ${(await nsh('rs1', 'ip', '-6', 'route')).replace(/\n/g, ' | ')}`);
    h.say(`rs1 neigh: ${(await nsh('rs1', 'ip', '-6', 'neigh')).replace(/\n/g, ' | ')}`);
    h.say(`k1 neigh: ${(await nsh('k1', 'ip', '-6', 'neigh')).replace(/\n/g, ' | ')}`);
    h.say(`k1 forwarding: ${(await nsh('k1', 'sysctl', 'net.ipv6.conf.all.forwarding', 'net.ipv6.conf.eth0.forwarding')).replace(/\n/g, ' ')}`);
  }
  check(nat.fail === 0 && (nat.counts.rs1 ?? 0) > 0 && (nat.counts.rs2 ?? 0) > 0, `IPv6 NAT: ${JSON.stringify(nat)}`);
}

/** v6 TUN: ip6ip6 to rs3, decapsulated by its dedicated ip6ip6 device. */
async function tun6(h: Harness, client: Client): Promise<void> {
  // The outer source k1 gives its ip6ip6 packets to rs3.
  h.say(`k1 route to rs3: ${(await nsh('k1', 'ip', '-6', 'route', 'get', V6.rs3)).trim()}`);
  const tun = await client.tally(`http://[${V6.tun}]/`, 5, V6.client);
  h.say(`TUN over IPv6 (${TUN6_DEV} on rs3): ${JSON.stringify(tun)}`);
  if (tun.fail > 0) {
    // Did the ip6ip6 packets reach rs3, and did a tunnel device (the fallback or ours) take them?
    h.say(`rs3 ip6tnl0: ${(await nsh('rs3', 'ip', '-s', '-d', 'link', 'show', 'ip6tnl0')).replace(/\n\s*/g, ' | ')}`);
    h.say(
      `rs3 eth0 rx: ${JSON.stringify(await ifaceBytes('rs3'))}; k1 -Lnc: ${JSON.stringify((await connections('k1')).filter((c) => c.virtual.startsWith(`[${V6.tun}]`)).slice(0, 2))}`,
    );
    h.say(`rs3 addresses: ${(await nsh('rs3', 'ip', '-6', '-br', 'addr')).replace(/\n/g, ' | ')}`);
    h.say(`rs3 ${TUN6_DEV}: ${(await nsh('rs3', 'ip', '-s', '-d', 'link', 'show', TUN6_DEV)).replace(/\n\s*/g, ' | ')}`);
  }
  check(tun.fail === 0 && tun.counts.rs3 === 5, `IPv6 TUN through ${TUN6_DEV}: ${JSON.stringify(tun)}`);
}

/** ip_vs_ctl.c: a destination of the other family only with TUN, and never while syncing. */
async function crossFamily(h: Harness): Promise<void> {
  const add = (fwd: string, port = 80) => run(['ip', 'netns', 'exec', 'k1', 'ipvsadm', '-a', '-t', `[${V6.dr}]:${port}`, '-r', `${NET.rs3}:${port}`, fwd]);
  const dr = await add('-g');
  const nat = await add('-m');
  const tun = await add('-i');
  h.say(`IPv4 real server behind the IPv6 VIP: DR exit ${dr.code} (${dr.stderr.trim()}), NAT exit ${nat.code}, TUN exit ${tun.code}`);
  check(dr.code !== 0 && nat.code !== 0, 'the kernel took an IPv4 DR/NAT real server behind an IPv6 VIP');
  check(tun.code === 0, `the kernel refused an IPv4 TUN real server behind an IPv6 VIP: ${tun.stderr.trim()}`);
  const sync = await run(['ip', 'netns', 'exec', 'k1', 'ipvsadm', '--start-daemon', 'master', '--mcast-interface', 'eth0', '--syncid', SYNC_ID]);
  h.say(`sync daemon with a mixed-family destination present: exit ${sync.code} (${sync.stderr.trim()})`);
  check(sync.code !== 0, 'the sync daemon started with a mixed-family destination present');
  await nsh('k1', 'ipvsadm', '-d', '-t', `[${V6.dr}]:80`, '-r', `${NET.rs3}:80`);
}

/** A v6 connection synced k1 → k2 (protocol v1 over the IPv4 multicast group) survives the VIP's move. */
async function syncAndMove(h: Harness, client: Client): Promise<void> {
  await restore('k2', directorBatch());
  await nsh('k1', 'ipvsadm', '--start-daemon', 'master', '--mcast-interface', 'eth0', '--syncid', SYNC_ID);
  await nsh('k2', 'ipvsadm', '--start-daemon', 'backup', '--mcast-interface', 'eth0', '--syncid', SYNC_ID);
  const version = (await nsh('k1', 'sysctl', '-n', 'net.ipv4.vs.sync_version')).trim();
  h.say(`net.ipv4.vs.sync_version = ${version}`);
  const { localPort } = await client.hold('v6', V6.dr, 9000, V6.client);
  let server = '';
  // A few packets each way: the sync daemon sends a connection once it has seen sync_threshold (3).
  for (let i = 0; i < 6; i++) {
    const r = await client.holdPing('v6', `hello ${i}`);
    check(r.ok, `echo over IPv6 through ${V6.dr}:9000 failed: ${r.error}`);
    server = r.reply!.split(' ')[0];
  }
  const source = `[${V6.client}]:${localPort}`;
  const synced = await waitFor(async () => (await connections('k2')).find((c) => c.source === source), 15_000, 300);
  h.say(`held IPv6 connection ${source} → ${server}; in k2's table by sync: ${JSON.stringify(synced)}`);
  check(synced, `the IPv6 connection never reached k2 by connection sync (sync_version ${version})`);

  await client.loopStart('v6', `http://[${V6.dr}]/`, 100, V6.client, 500);
  await sleep(1000);
  // The move a VRRP failover makes: k1 gone from the link, k2 takes the VIP.
  await setLink('k1', false);
  const t0 = Date.now();
  await ipIn('k2', 'addr', 'add', `${V6.dr}/64`, 'dev', 'eth0', 'nodad');
  // No unsolicited NA here (the agent's VRRP sends one): the client re-resolves the VIP by
  // Neighbor Unreachability Detection, whose timers were shortened in addIpv6.
  const back = await waitFor(async () => (await client.holdPing('v6', 'after', 1000)).ok || undefined, 30_000, 0);
  h.figure('held IPv6 connection answered again after', Date.now() - t0, 'ms');
  await sleep(2000);
  const loop = await client.loopStop('v6');
  h.figure('longest gap between answered IPv6 requests', loop.longestGapMs, 'ms');
  h.say(`requests: ${loop.ok} answered, ${loop.fail} failed, by ${JSON.stringify(loop.servers)}`);
  const after = await client.holdPing('v6', 'still there');
  const onK2 = (await connections('k2')).find((c) => c.source === source);
  await client.holdClose('v6');
  check(back && after.ok, `the synced IPv6 connection did not survive the move to k2: ${after.error}`);
  check(after.reply!.startsWith(`${server} `), `the connection moved to another real server: ${after.reply}`);
  check(onK2?.state === 'ESTABLISHED', `k2 does not carry the connection as ESTABLISHED: ${JSON.stringify(onK2)}`);
}
