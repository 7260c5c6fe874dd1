import type { RealServerVip } from '../config/node-config.ts';
import { DEFAULTS } from '../site/defaults.ts';
import type { Node } from '../site/site.ts';
import { familyOf, nodeAddress } from '../site/family.ts';
import { hostPrefix, inSubnet } from '../util/ip.ts';
import { keyOrdered } from './key-order.ts';
import type { SiteIndex } from './site-index.ts';

/** The VIPs a real-server node must set up, one per address and mode, from every service that uses it. */
export function realServerVips(index: SiteIndex, self: Node): RealServerVip[] {
  const byVip = new Map<string, RealServerVip>();
  const { directors, vrrpVips } = index;
  // A realserver node listed by address instead of by name is still this host (the index has both).
  for (const { svc, rs, vip } of index.realServersOf.get(self.name) ?? []) {
    const forwarding = rs.forwarding ?? svc.forwarding ?? DEFAULTS.service.forwarding;
    const key = `${vip}/${forwarding}`;
    let entry = byVip.get(key);
    if (!entry) {
      let expectedGateways: string[] = [];
      if (forwarding === 'nat') {
        // NAT cannot cross families (only TUN can), so the gateways are of the VIP's family.
        const family = familyOf(vip);
        const own = nodeAddress(self, family);
        const onSubnet = own === null ? [] : vrrpVips.filter((v) => v.prefix < hostPrefix(family) && inSubnet(own, v.address, v.prefix)).map((v) => v.address);
        const serving = svc.directors ? directors.filter((d) => svc.directors!.includes(d.name)) : directors;
        expectedGateways = onSubnet.length ? onSubnet : serving.flatMap((d) => nodeAddress(d, family) ?? []);
      }
      entry = { address: vip, expectedGateways: [...new Set(expectedGateways)].sort(), forwarding, services: [] };
      byVip.set(key, entry);
    }
    if (!entry.services.includes(svc.name)) entry.services.push(svc.name);
  }
  return [...byVip.values()].sort(byAddressAndMode);
}

// Plain code-unit order: locale-independent, so every host and the cloud sort alike. Module-level
// functions, not closures made per node: a bundler that keeps function names (tsx, wrangler)
// wraps every named closure it makes in a call that sets its name, 10,000 times per compile.
const vipKey = (v: RealServerVip) => `${v.address}/${v.forwarding}`;
const byAddressAndMode = (a: RealServerVip, b: RealServerVip) => (vipKey(a) < vipKey(b) ? -1 : vipKey(a) > vipKey(b) ? 1 : 0);

const arp = (dev: string) => ({ [`net.ipv4.conf.${dev}.arp_announce`]: '2', [`net.ipv4.conf.${dev}.arp_ignore`]: '1' });
/** Written once, copied into each config (a real server's is built 10,000 times in a large site's compile). */
const ARP_DR: Readonly<Record<string, string>> = { ...arp('all'), ...arp('lo') };
const ARP_TUN: Readonly<Record<string, string>> = {
  ...arp('all'),
  ...arp('tunl0'),
  'net.ipv4.conf.all.rp_filter': '0',
  'net.ipv4.conf.tunl0.rp_filter': '0',
};

/**
 * Kernel settings a real server needs for its VIPs (the seeds' lvsrs script): DR and TUN must not
 * answer ARP for a VIP they hold locally (arp_ignore=1: reply only for addresses on the asking
 * interface; arp_announce=2: use the best local source), and TUN must accept decapsulated packets
 * whose source does not route back through tunl0 (rp_filter=0; the kernel uses max(all, dev)).
 */
export function realServerSysctls(vips: readonly RealServerVip[]): Record<string, string> {
  const out: Record<string, string> = {};
  // IPv6 needs none of these: neighbour discovery answers only for the asked interface's addresses.
  let dr = false;
  let tun = false;
  for (const v of vips) {
    if (familyOf(v.address) !== 4) continue;
    dr ||= v.forwarding === 'dr';
    tun ||= v.forwarding === 'tun';
  }
  if (dr) Object.assign(out, ARP_DR);
  if (tun) Object.assign(out, ARP_TUN);
  return keyOrdered(out);
}
