/**
 * Scenario `dual-stack`: IPv4 and IPv6 end to end with our agents doing all of it (the `ipv6`
 * scenario does the IPv6 parts by hand). A director pair e1/e2 runs an IPv4 and an IPv6 VRRPv3
 * instance with the same VRID in one sync group (specs/site-dual-stack.yaml); the real servers'
 * agents put the VIPs on lo (/32 and /128) and stop IPv6 redirects for NAT. The client gets 10/10
 * answers over each family, the IPv6 DR reply bypasses e1, a v6 NAT service answers; then e1's
 * agent is killed under traffic (and its link taken down, as scenario `failover` does): e2 takes
 * both VIPs, its unsolicited Neighbor Advertisements re-point the client at once (the client keeps
 * the kernel's default NUD timers, which alone would take 20 s or more), and an IPv6 connection
 * carried to e2 by IPVS connection sync keeps working.
 */
import type { Client } from './client-rpc.ts';
import { checkDualStackDr } from './dual-stack-dr.ts';
import { check, scenarioParts, type Harness } from './harness.ts';
import { connections, realServers } from './ipvs.ts';
import type { Lab } from './lab.ts';
import { START_MS } from './scenarios-dr.ts';
import { nsh, run, sh, sleep, waitFor } from './sh.ts';
import { addHosts, addressesOf, NET, setLink } from './topology.ts';

const SPEC_DS = '/run/lab/site-dual-stack.yaml';
const V4 = { e1: '10.99.0.15', e2: '10.99.0.16', rs4: '10.99.0.24', rs5: '10.99.0.25', vip: '10.99.0.90' } as const;
const V6 = {
  client: '2001:db8:77::2',
  natClient: '2001:db8:88::2',
  e1: '2001:db8:99::15',
  e2: '2001:db8:99::16',
  rs4: '2001:db8:99::24',
  rs5: '2001:db8:99::25',
  dr: '2001:db8:99::250',
  nat: '2001:db8:99::260',
  gateway: '2001:db8:99::254',
} as const;
const DIRECTORS = ['e1', 'e2'] as const;
const REAL = ['rs4', 'rs5'] as const;
const NODES = [...DIRECTORS, ...REAL];
/** The client's Neighbor Unreachability Detection timers, which must stay the kernel's defaults here. */
const NUD = ['base_reachable_time_ms', 'delay_first_probe_time', 'retrans_time_ms', 'ucast_solicit', 'mcast_solicit'];

/** IPv6 addresses on an interface of a namespace. */
async function addresses6(ns: string, dev = 'eth0'): Promise<string[]> {
  const list = JSON.parse(await sh('ip', '-n', ns, '-j', '-6', 'addr', 'show', 'dev', dev)) as { addr_info?: { local: string }[] }[];
  return list.flatMap((l) => (l.addr_info ?? []).map((a) => a.local));
}

/** Does `ns` hold both VIPs of the DR service on eth0? */
async function holdsBoth(ns: string): Promise<boolean> {
  const [a4, a6] = await Promise.all([addressesOf(ns, 'eth0').catch((): string[] => []), addresses6(ns).catch((): string[] => [])]);
  return a4.includes(V4.vip) && a6.includes(V6.dr);
}

/** Does `ns` hold either VIP? */
async function holdsAny(ns: string): Promise<boolean> {
  const [a4, a6] = await Promise.all([addressesOf(ns, 'eth0').catch((): string[] => []), addresses6(ns).catch((): string[] => [])]);
  return a4.includes(V4.vip) || a6.includes(V6.dr);
}

/** The client's neighbour entry for an address: `lladdr state`, or '' when it has none. */
async function neighbour(ns: string, address: string): Promise<string> {
  const out = (await nsh(ns, 'ip', '-6', 'neigh', 'show', address, 'dev', 'eth0').catch(() => '')).trim();
  const m = /lladdr (\S+).*?\s(\w+)$/.exec(out);
  return m ? `${m[1]} ${m[2]}` : out;
}

const macOf = async (ns: string) => (await nsh(ns, 'cat', '/sys/class/net/eth0/address')).trim();

/** Namespaces e1 e2 rs4 rs5 with both families; the client's IPv6 addresses; lab servers on rs4/rs5. */
async function build(h: Harness, lab: Lab): Promise<void> {
  await addHosts([
    ...DIRECTORS.map((d) => ({ ns: d, role: 'director' as const, addresses: [`${V4[d]}/24`] })),
    ...REAL.map((r) => ({ ns: r, role: 'realserver' as const, addresses: [`${V4[r]}/24`] })),
  ]);
  // nodad: the lab's own addresses are unique by construction; DAD would hold each a second.
  for (const n of NODES) await sh('ip', '-n', n, 'addr', 'add', `${V6[n]}/64`, 'dev', 'eth0', 'nodad');
  for (const d of DIRECTORS) {
    for (const net of ['2001:db8:77::/64', '2001:db8:88::/64']) await sh('ip', '-n', d, 'route', 'add', net, 'dev', 'eth0');
    await nsh(d, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1');
  }
  for (const r of REAL) {
    await sh('ip', '-n', r, 'route', 'add', '2001:db8:77::/64', 'dev', 'eth0');
    // LVS-NAT: replies to the NAT client go back through the directors' gateway VIP.
    await sh('ip', '-n', r, 'route', 'add', '2001:db8:88::/64', 'via', V6.gateway, 'dev', 'eth0');
  }
  // The client may already have these from scenario ipv6 (replace: idempotent).
  for (const a of [V6.client, V6.natClient]) await sh('ip', '-n', 'c', 'addr', 'replace', `${a}/64`, 'dev', 'eth0', 'nodad');
  await sh('ip', '-n', 'c', 'route', 'replace', '2001:db8:99::/64', 'dev', 'eth0');
  // The kernel's own NUD timers on the client (scenario ipv6 shortens them for its by-hand move):
  // the takeover must re-point the client by unsolicited NA, not by a quick NUD.
  const nud: string[] = [];
  for (const k of NUD) {
    // The kernel's defaults, from the root namespace (a namespace has no neigh/default) through
    // /proc (busybox sysctl misreads the `default` key of net.ipv6.neigh).
    const def = (await sh('cat', `/proc/sys/net/ipv6/neigh/default/${k}`)).trim();
    await nsh('c', 'sh', '-c', `echo ${def} > /proc/sys/net/ipv6/neigh/eth0/${k}`);
    nud.push(`${k}=${def}`);
  }
  h.say(`client NUD timers (kernel defaults): ${nud.join(' ')}`);
  for (const r of REAL) await lab.startServer(r);
  for (const r of REAL) check(await lab.serverUp(r), `real server ${r} did not start`);
}

/** Agents up; e1 the only holder of both VIPs; IPVS and the real servers' side as the spec says. */
async function startAgents(h: Harness, lab: Lab): Promise<void> {
  const t0 = Date.now();
  for (const n of NODES) lab.startAgent(n, SPEC_DS);
  const applied = await waitFor(async () => NODES.every((n) => /apply revision \d+ succeeded/.test(lab.agents.get(n)!.output())), START_MS, 500);
  check(applied, `not every dual-stack agent applied revision 1 within ${START_MS} ms\n${NODES.map((n) => `${n}: ${lab.tail(n, 6)}`).join('\n')}`);
  h.figure('four agents applied revision 1 after', Date.now() - t0, 'ms');
  const steady = await waitFor(
    async () => {
      for (let i = 0; i < 10; i++) {
        if (!(await holdsBoth('e1')) || (await holdsAny('e2'))) return false;
        await sleep(500);
      }
      return true;
    },
    START_MS,
    500,
  );
  check(steady, `e1 did not settle as the only holder of ${V4.vip} and ${V6.dr} for 5 s\ne1: ${lab.tail('e1')}\ne2: ${lab.tail('e2')}`);
  h.figure('e1 sole MASTER of both families after', Date.now() - t0, 'ms');
  h.say(`e1 eth0 IPv6: ${(await addresses6('e1')).join(' ')}`);
  // The source e1 picks towards a real server (its health checks' source over IPv6).
  h.say(`e1 route to rs4: ${(await nsh('e1', 'ip', '-6', 'route', 'get', V6.rs4)).trim()}`);

  const ipvsReady = await waitFor(async () => {
    const v4 = await realServers('e1', V4.vip, 80);
    const v6 = await realServers('e1', `[${V6.dr}]`, 80);
    const nat = await realServers('e1', `[${V6.nat}]`, 80);
    return v4.size === 2 && v6.has(`[${V6.rs4}]:80`) && v6.has(`[${V6.rs5}]:80`) && nat.size === 2;
  }, 60_000);
  check(ipvsReady, `e1's IPVS does not list both real servers for each VIP:\n${await nsh('e1', 'ipvsadm', '-Sn')}\n${lab.tail('e1')}`);
  for (const r of REAL) {
    const ready = await waitFor(async () => {
      const lo4 = await lab.holdsOn(r, 'lo', V4.vip);
      const lo6 = (await nsh(r, 'ip', '-6', '-o', 'addr', 'show', 'dev', 'lo')).includes(`${V6.dr}/128`);
      const arp = (await lab.sysctl(r, 'net.ipv4.conf.all.arp_ignore')) === '1' && (await lab.sysctl(r, 'net.ipv4.conf.all.arp_announce')) === '2';
      const redirects = (await lab.sysctl(r, 'net.ipv6.conf.eth0.accept_redirects')) === '0';
      return lo4 && lo6 && arp && redirects;
    }, START_MS);
    check(
      ready,
      `${r}: agent did not put ${V4.vip}/32 and ${V6.dr}/128 on lo with arp_ignore/arp_announce and IPv6 accept_redirects=0 on eth0\n${lab.tail(r)}`,
    );
  }
  h.say(`rs4 lo: ${(await nsh('rs4', 'ip', '-o', 'addr', 'show', 'dev', 'lo')).replace(/\n/g, ' | ')}`);
  // How the pair got here (start-up under TCG may see both MASTER for a while).
  for (const d of DIRECTORS) h.say(`${d} VRRP: ${vrrpLines(lab, d).slice(-8).join(' | ')}`);
}

/** The agent's VRRP transitions and GARP/NA failures, stamped. */
const vrrpLines = (lab: Lab, node: string) =>
  (lab.agents.get(node)?.output() ?? '').split('\n').filter((l) => /vrrp \S+ (\S+→\S+|.*(gratuitous|Neighbor|garp|late))/.test(l));

/** Where IPv6 NAT packets stop: forwarding and ICMPv6 counters, routes, neighbours. */
async function natDiagnostics(h: Harness, director: string): Promise<void> {
  const snmp = async (ns: string) =>
    (await nsh(ns, 'cat', '/proc/net/snmp6'))
      .split('\n')
      .filter((l) =>
        /^(Ip6(InReceives|InNoRoutes|InAddrErrors|InDiscards|OutForwDatagrams|OutRequests|OutNoRoutes|OutDiscards)|Icmp6(In|Out)Redirects)\s/.test(l),
      )
      .map((l) => l.replace(/\s+/, '='))
      .join(' ');
  for (const ns of [director, 'rs4', 'rs5']) h.say(`${ns} snmp6: ${await snmp(ns).catch((e) => String(e))}`);
  for (const r of REAL) {
    h.say(`${r} route get: ${(await nsh(r, 'ip', '-6', 'route', 'get', V6.natClient, 'from', V6[r]).catch((e) => String(e))).trim()}`);
    h.say(`${r} neigh: ${(await nsh(r, 'ip', '-6', 'neigh').catch((e) => String(e))).replace(/\n/g, ' | ')}`);
    h.say(
      `${r} accept_redirects: ${(await nsh(r, 'cat', '/proc/sys/net/ipv6/conf/eth0/accept_redirects', '/proc/sys/net/ipv6/conf/all/accept_redirects')).replace(/\n/g, ' ')}`,
    );
  }
  h.say(`${director} neigh: ${(await nsh(director, 'ip', '-6', 'neigh').catch((e) => String(e))).replace(/\n/g, ' | ')}`);
  h.say(
    `${director} forwarding all/eth0: ${(await nsh(director, 'cat', '/proc/sys/net/ipv6/conf/all/forwarding', '/proc/sys/net/ipv6/conf/eth0/forwarding')).replace(/\n/g, ' ')}`,
  );
}

/** IPv6 NAT through `director`: replies return through the gateway VIP, rewritten to the NAT VIP. */
async function nat6(h: Harness, client: Client, director: string, n: number): Promise<void> {
  const macs = `e1 ${await macOf('e1')}, e2 ${await macOf('e2')}`;
  for (const r of REAL) h.say(`${r} neighbour entry for the gateway ${V6.gateway}: ${await neighbour(r, V6.gateway)} (${macs})`);
  const nat = await client.tally(`http://[${V6.nat}]/`, n, V6.natClient);
  const natConns = (await connections(director)).filter((c) => c.virtual === `[${V6.nat}]:80`);
  h.say(`NAT over IPv6 through ${director}: ${JSON.stringify(nat)}; -Lnc entries ${natConns.length}, e.g. ${JSON.stringify(natConns[0])}`);
  if (nat.fail > 0) await natDiagnostics(h, director);
  check(nat.fail === 0 && (nat.counts.rs4 ?? 0) > 0 && (nat.counts.rs5 ?? 0) > 0, `IPv6 NAT through ${director}: ${JSON.stringify(nat)}`);
  check(natConns.length > 0 && natConns.every((c) => c.dest.endsWith(':8000')), 'IPv6 NAT: IPVS connection table does not show the traffic to port 8000');
}

/** SIGKILL + link down of e1 under traffic on both families; e2 takes over; a synced v6 connection survives. */
async function failover(h: Harness, lab: Lab, client: Client): Promise<void> {
  const { localPort } = await client.hold('ds6', V6.dr, 9000, V6.client);
  let server = '';
  // A few packets each way: the sync daemon sends a connection once it has seen sync_threshold (3).
  for (let i = 0; i < 6; i++) {
    const r = await client.holdPing('ds6', `hello ${i}`);
    check(r.ok, `echo over IPv6 through [${V6.dr}]:9000 failed: ${r.error}`);
    server = r.reply!.split(' ')[0];
  }
  const source = `[${V6.client}]:${localPort}`;
  const synced = await waitFor(async () => (await connections('e2')).find((c) => c.source === source), 15_000, 300);
  h.say(`held IPv6 connection ${source} → ${server}; in e2's table by sync: ${JSON.stringify(synced)}`);
  check(synced, 'the IPv6 connection never reached e2 by IPVS connection sync');
  // The spec puts the sync daemon on the IPv6 group ff02::81: the kernel says so for both roles.
  const daemons = [await nsh('e1', 'ipvsadm', '-L', '--daemon'), await nsh('e2', 'ipvsadm', '-L', '--daemon')].map((d) => d.trim());
  h.say(`sync daemons: e1 ${daemons[0]} | e2 ${daemons[1]}`);
  check(
    /master sync daemon .*ff02::81/.test(daemons[0]) && /backup sync daemon .*ff02::81/.test(daemons[1]),
    `the sync daemons do not run on the IPv6 group ff02::81: e1 ${daemons[0]}; e2 ${daemons[1]}`,
  );

  const [e1Mac, e2Mac] = [await macOf('e1'), await macOf('e2')];
  const before = await neighbour('c', V6.dr);
  h.say(`client's neighbour entry for ${V6.dr} before: ${before} (e1 ${e1Mac}, e2 ${e2Mac})`);
  check(before.startsWith(e1Mac), `the client does not reach ${V6.dr} at e1's MAC before the crash: ${before}`);

  await client.loopStart('ds4', `http://${V4.vip}/`, 100, NET.client.dr, 500);
  await client.loopStart('ds6', `http://[${V6.dr}]/`, 100, V6.client, 500);
  await sleep(1500);
  lab.agents.get('e1')!.kill('SIGKILL');
  await setLink('e1', false);
  const t0 = Date.now();
  const took = await waitFor(async () => (await holdsBoth('e2')) || undefined, 30_000, 100);
  const tookMs = Date.now() - t0;
  h.figure('e2 holds the IPv4 and IPv6 VIPs after', took ? tookMs : -1, 'ms');
  check(took, `e2 never took both VIPs\n${lab.tail('e2')}`);
  // The unsolicited NA: the client's entry moves to e2's MAC without any probe of its own.
  const moved = await waitFor(async () => ((await neighbour('c', V6.dr)).startsWith(e2Mac) ? true : undefined), 10_000, 100);
  h.figure("client's neighbour entry on e2's MAC after the takeover", moved ? Date.now() - t0 - tookMs : -1, 'ms');
  h.say(`client's neighbour entry for ${V6.dr} after: ${await neighbour('c', V6.dr)}`);
  await sleep(4000);
  const [l4, l6] = [await client.loopStop('ds4'), await client.loopStop('ds6')];
  h.figure('longest gap between answered IPv4 requests', l4.longestGapMs, 'ms');
  h.figure('longest gap between answered IPv6 requests', l6.longestGapMs, 'ms');
  h.say(
    `IPv4: ${l4.ok} answered, ${l4.fail} failed, by ${JSON.stringify(l4.servers)}; IPv6: ${l6.ok} answered, ${l6.fail} failed, by ${JSON.stringify(l6.servers)}`,
  );
  h.say(`crash at ${new Date(t0).toISOString()}; IPv4 failures ${JSON.stringify(l4.errors)}; IPv6 failures ${JSON.stringify(l6.errors)}`);
  h.say(`e2 VRRP: ${vrrpLines(lab, 'e2').slice(-6).join(' | ')}`);
  check(moved, `the client's neighbour entry for ${V6.dr} did not move to e2 (${e2Mac}) within 10 s: no unsolicited NA reached it\n${lab.tail('e2')}`);

  // Served by e2 over both families, at once (no waiting for the client's NUD).
  const after4 = await client.tally(`http://${V4.vip}/`, 6, NET.client.dr);
  const after6 = await client.tally(`http://[${V6.dr}]/`, 6, V6.client);
  h.say(`after the takeover: IPv4 ${JSON.stringify(after4.counts)} failed ${after4.fail}; IPv6 ${JSON.stringify(after6.counts)} failed ${after6.fail}`);
  check(after4.fail === 0 && after6.fail === 0, `e2 does not serve both families: IPv4 ${JSON.stringify(after4)}, IPv6 ${JSON.stringify(after6)}`);

  const ping = await client.holdPing('ds6', 'after the crash', 5000);
  const onE2 = (await connections('e2')).find((c) => c.source === source);
  h.say(`held IPv6 connection after the crash: ${JSON.stringify(ping)}; in e2's table: ${JSON.stringify(onE2)}`);
  await client.holdClose('ds6');
  check(ping.ok && ping.reply!.startsWith(`${server} `), `the synced IPv6 connection broke: ${JSON.stringify(ping)}`);
  check(onE2?.state === 'ESTABLISHED', `e2 does not carry the connection as ESTABLISHED: ${JSON.stringify(onE2)}`);
}

/** The whole scenario; its agents and servers are gone afterwards (the rest of the lab keeps its memory). */
export async function dualStack(h: Harness, lab: Lab, client: Client): Promise<void> {
  const forward = (await sh('cat', '/proc/sys/net/ipv6/conf/all/forwarding').catch(() => '')).trim();
  check(forward !== '', 'the guest kernel has no IPv6 (/proc/sys/net/ipv6 missing)');
  const python = await run(['python3', '-c', 'import socket; print(socket.IPV6_RECVHOPLIMIT)']);
  check(python.code === 0, `python3 (the agent's GARP/NA helper and IPv6 VRRP receiver) does not run in the guest: ${python.stderr.trim()}`);
  await sh('cp', '/lab/site-dual-stack.yaml', SPEC_DS);
  // After the set-up, every part runs and reports, so one run shows all of it; the first failure fails the scenario.
  const { part, done } = scenarioParts(h);
  try {
    try {
      await build(h, lab);
      await startAgents(h, lab);
      await part('dual-stack DR', () =>
        checkDualStackDr(h, client, { vip4: V4.vip, vip6: V6.dr, client6: V6.client, director: 'e1', realServers: ['rs4', 'rs5'] }),
      );
      await part('IPv6 NAT', () => nat6(h, client, 'e1', 10));
      await part('failover under traffic', () => failover(h, lab, client));
      await part('IPv6 NAT after the failover', () => nat6(h, client, 'e2', 6));
      done();
    } catch (e) {
      // The lab's own diagnostics run after this cleanup: print these agents and directors now.
      for (const n of NODES) h.say(`--- agent ${n} (last lines)\n${lab.tail(n, 20)}`);
      for (const d of DIRECTORS) h.say(`--- ${d} ipvsadm -Ln\n${(await run(['ip', 'netns', 'exec', d, 'ipvsadm', '-Ln'])).stdout}`);
      throw e;
    }
  } finally {
    await setLink('e1', true).catch(() => {});
    // Every process of these namespaces (agents, their helpers, the lab servers), by PID.
    for (const n of NODES) {
      lab.agents.delete(n);
      lab.servers.delete(n);
      await lab.crashNamespace(n).catch(() => {});
    }
  }
}
