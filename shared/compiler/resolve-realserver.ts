import type { RealServerVip } from '../config/node-config.ts';
import { DEFAULTS } from '../site/defaults.ts';
import type { Node, Site } from '../site/site.ts';
import { inSubnet, splitCidr } from '../util/ip.ts';

/** The VIPs a real-server node must set up, one per address and mode, from every service that uses it. */
export function realServerVips(site: Site, self: Node): RealServerVip[] {
  const byVip = new Map<string, RealServerVip>();
  const directors = site.spec.nodes.filter((n) => n.role === 'director');
  const vrrpVips = (site.spec.vrrp ?? []).flatMap((i) => i.vips.map((v) => splitCidr(typeof v === 'string' ? v : v.address)));
  for (const svc of site.spec.services ?? []) {
    if (svc.vip === undefined) continue; // fwmark services: the operator marks packets; no VIP to hold
    for (const rs of svc.realServers) {
      // A realserver node listed by address instead of by name is still this host.
      if (rs.node !== self.name && !(rs.node === undefined && rs.address === self.address)) continue;
      const forwarding = rs.forwarding ?? svc.forwarding ?? DEFAULTS.service.forwarding;
      const key = `${svc.vip}/${forwarding}`;
      let entry = byVip.get(key);
      if (!entry) {
        let expectedGateways: string[] = [];
        if (forwarding === 'nat') {
          const onSubnet = vrrpVips.filter((v) => v.prefix < 32 && inSubnet(self.address, v.address, v.prefix)).map((v) => v.address);
          const serving = svc.directors ? directors.filter((d) => svc.directors!.includes(d.name)) : directors;
          expectedGateways = onSubnet.length ? onSubnet : serving.map((d) => d.address);
        }
        entry = { address: svc.vip, forwarding, services: [], expectedGateways: [...new Set(expectedGateways)].sort() };
        byVip.set(key, entry);
      }
      if (!entry.services.includes(svc.name)) entry.services.push(svc.name);
    }
  }
  // Plain code-unit order: locale-independent, so every host and the cloud sort alike.
  const key = (v: RealServerVip) => `${v.address}/${v.forwarding}`;
  return [...byVip.values()].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/**
 * Kernel settings a real server needs for its VIPs (the seeds' lvsrs script): DR and TUN must not
 * answer ARP for a VIP they hold locally (arp_ignore=1: reply only for addresses on the asking
 * interface; arp_announce=2: use the best local source), and TUN must accept decapsulated packets
 * whose source does not route back through tunl0 (rp_filter=0; the kernel uses max(all, dev)).
 */
export function realServerSysctls(vips: readonly RealServerVip[]): Record<string, string> {
  const out: Record<string, string> = {};
  const arp = (dev: string) => {
    out[`net.ipv4.conf.${dev}.arp_ignore`] = '1';
    out[`net.ipv4.conf.${dev}.arp_announce`] = '2';
  };
  if (vips.some((v) => v.forwarding === 'dr')) ['all', 'lo'].forEach(arp);
  if (vips.some((v) => v.forwarding === 'tun')) {
    ['all', 'tunl0'].forEach(arp);
    out['net.ipv4.conf.all.rp_filter'] = '0';
    out['net.ipv4.conf.tunl0.rp_filter'] = '0';
  }
  return out;
}
