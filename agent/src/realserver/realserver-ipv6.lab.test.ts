import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinuxDataplane } from '../dataplane/linux.ts';
import { tempDir } from '../engine/engine.test-support.ts';
import { RealServerRole } from './role.ts';
import { netnsSkipReason } from '../netns-reason.test-support.ts';

/** Root and `ip netns` are needed; the reason is printed when the test cannot run. */
const reason = netnsSkipReason();
if (reason) console.log(`skipping IPv6 real-server netns lab: ${reason}`);

const ID = (process.pid % 46656).toString(36);
const NS = { bridge: `v6c${ID}b`, client: `v6c${ID}c`, director: `v6c${ID}d`, rs: `v6c${ID}r` };
const VIP = '2001:db8:6c::50';
/** The VIP as the 128 bits nft compares against a Neighbor Advertisement's target field. */
const VIP_HEX = '0x20010db8006c00000000000000000050';
const ADDR = { client: '2001:db8:6c::1', director: '2001:db8:6c::11', rs: '2001:db8:6c::21' };

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' }).trim();
const inNs = (ns: string, ...args: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...args], { encoding: 'utf8' }).trim();
const mac = (ns: string) => (JSON.parse(ip('-n', ns, '-j', 'link', 'show', 'eth0')) as { address: string }[])[0].address;
const neigh = (ns: string, addr: string) =>
  (JSON.parse(ip('-n', ns, '-j', '-6', 'neigh', 'show', addr, 'dev', 'eth0')) as { lladdr?: string; state: string[] }[])[0] ?? null;
/** Packets counted by the rule whose comment is `name` in the real server's `inet lab out` chain. */
const counted = (name: string): number => {
  const out = JSON.parse(inNs(NS.rs, 'nft', '-j', 'list', 'chain', 'inet', 'lab', 'out')) as {
    nftables: { rule?: { comment?: string; expr: { counter?: { packets: number } }[] } }[];
  };
  const rule = out.nftables.find((e) => e.rule?.comment === name)?.rule;
  if (!rule) throw new Error(`no nft rule ${name}`);
  return rule.expr.find((x) => x.counter)!.counter!.packets;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, read: () => T, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    await sleep(100);
  }
}

/**
 * The IPv6 counterpart of arp_ignore/arp_announce, proved on a real bridge: a real server with
 * the VIP/128 on lo (put there by the role) never answers a Neighbor Solicitation for the VIP,
 * neither the multicast one every host on the link sees nor a unicast probe sent straight to its
 * MAC, and never solicits with the VIP as source; the director holding the VIP on eth0 answers.
 */
describe.skipIf(reason !== null)('IPv6 real server in network namespaces (real Neighbor Discovery)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    for (const ns of Object.values(NS)) {
      ip('netns', 'add', ns);
      // DAD would hold each address tentative for a second; it is not what is under test.
      inNs(ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    ip('-n', NS.bridge, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0');
    ip('-n', NS.bridge, 'link', 'set', 'br0', 'up');
    for (const host of ['client', 'director', 'rs'] as const) {
      const port = `v6c${ID}${host[0]}`;
      ip('link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS[host]);
      ip('link', 'set', port, 'netns', NS.bridge);
      ip('-n', NS.bridge, 'link', 'set', port, 'master', 'br0', 'up');
      ip('-n', NS[host], 'link', 'set', 'eth0', 'up');
      ip('-n', NS[host], 'addr', 'add', `${ADDR[host]}/64`, 'dev', 'eth0');
    }
    // Short neighbour timers on the client so a failed resolution shows within seconds.
    inNs(NS.client, 'sysctl', '-q', '-w', 'net.ipv6.neigh.eth0.retrans_time_ms=200', 'net.ipv6.neigh.eth0.delay_first_probe_time=1');
    inNs(
      NS.rs,
      'nft',
      [
        'add table inet lab',
        'add chain inet lab out { type filter hook output priority 0; }',
        `add rule inet lab out icmpv6 type nd-neighbor-advert @th,64,128 ${VIP_HEX} counter comment "na-for-vip"`,
        `add rule inet lab out ip6 saddr ${VIP} icmpv6 type nd-neighbor-solicit counter comment "ns-from-vip"`,
        `add rule inet lab out icmpv6 type nd-neighbor-advert counter comment "na-any"`,
      ].join('\n'),
    );
  });
  afterAll(async () => {
    try {
      for (const ns of Object.values(NS)) execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } finally {
      await cleanup();
    }
  });

  it('the role puts VIP/128 on lo, the real server answers no NS for it, the director does, and removal takes it away', async () => {
    const role = () => new RealServerRole(createLinuxDataplane({ netns: NS.rs }), `${dir}/realserver.json`, () => {});
    const vips = [{ address: VIP, forwarding: 'dr' as const, services: ['web6'], expectedGateways: [] }];
    expect(await role().converge(vips)).toEqual({ ok: true, drift: [], warnings: [] });
    const lo = JSON.parse(ip('-n', NS.rs, '-j', '-6', 'addr', 'show', 'dev', 'lo')) as {
      addr_info: { local: string; prefixlen: number; tentative?: boolean }[];
    }[];
    expect(lo[0].addr_info).toContainEqual(expect.objectContaining({ local: VIP, prefixlen: 128 }));
    expect(lo[0].addr_info.find((a) => a.local === VIP)?.tentative).toBeUndefined();
    // A second pass adopts what is there: no drift, nothing added twice.
    expect(await role().converge(vips)).toEqual({ ok: true, drift: [], warnings: [] });

    // 1. Only the real server has the VIP: the client's multicast NS goes unanswered.
    expect(() => inNs(NS.client, 'ping', '-6', '-c', '1', '-W', '1', VIP)).toThrow();
    await waitFor(
      'client neighbour entry for the VIP',
      () => neigh(NS.client, VIP),
      (n) => n === null || !n.lladdr,
    );
    expect(counted('na-for-vip')).toBe(0);

    // 2. The director takes the VIP on eth0: the client resolves it to the director's MAC.
    ip('-n', NS.director, 'addr', 'add', `${VIP}/64`, 'dev', 'eth0', 'nodad');
    ip('-n', NS.client, '-6', 'neigh', 'flush', 'dev', 'eth0');
    inNs(NS.client, 'ping', '-6', '-c', '1', '-W', '2', VIP);
    expect(neigh(NS.client, VIP)?.lladdr).toBe(mac(NS.director));
    expect(counted('na-for-vip')).toBe(0);

    // 3. A unicast NS straight to the real server's MAC (a NUD probe of a stale entry): the DR
    // packet itself is accepted (the VIP is local there and the echo reply comes back), but the
    // probe gets no NA, so the entry fails instead of confirming the real server.
    ip('-n', NS.client, '-6', 'neigh', 'replace', VIP, 'lladdr', mac(NS.rs), 'dev', 'eth0', 'nud', 'stale');
    inNs(NS.client, 'ping', '-6', '-c', '1', '-W', '2', VIP);
    await waitFor(
      'unicast probe of the real server',
      () => neigh(NS.client, VIP)?.state ?? [],
      (s) => s.includes('FAILED'),
    );
    expect(counted('na-for-vip')).toBe(0);

    // 4. The real server sending from the VIP (its DR replies) solicits from eth0's own address.
    // (The echo reply goes to the director, which holds the VIP on the link: no answer here.)
    ip('-n', NS.rs, '-6', 'neigh', 'flush', 'dev', 'eth0');
    ip('-n', NS.client, '-6', 'neigh', 'flush', 'dev', 'eth0');
    expect(() => inNs(NS.rs, 'ping', '-6', '-c', '1', '-W', '1', '-I', VIP, ADDR.client)).toThrow();
    expect(neigh(NS.rs, ADDR.client)?.lladdr).toBe(mac(NS.client));
    expect(counted('ns-from-vip')).toBe(0);
    // The checks above can fail: the same real server does send NAs, for its own eth0 address.
    expect(counted('na-any')).toBeGreaterThan(0);

    // The VIP leaves the config: gone from lo, and lo's disable_ipv6 is as it was.
    expect((await role().converge([])).ok).toBe(true);
    expect(ip('-n', NS.rs, '-6', 'addr', 'show', 'dev', 'lo')).not.toContain(VIP);
    expect(inNs(NS.rs, 'sysctl', '-n', 'net.ipv6.conf.lo.disable_ipv6')).toBe('0');
  });
});
