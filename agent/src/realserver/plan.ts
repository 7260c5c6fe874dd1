import type { RealServerVip } from '#shared/config/node-config.ts';
import type { HostAddress } from '../dataplane/types.ts';

export interface RealServerPlan {
  addresses: HostAddress[];
  sysctls: Record<string, string>;
  tunl0: boolean;
  natChecks: { vip: string; expectedGateways: string[] }[];
}

/** Label of the VIPs the role puts on lo, so an operator sees who put them there. */
const LO_LABEL = 'lo:lvs';

/**
 * What a real server needs for its VIPs (LVS-HOWTO "the ARP problem"):
 * DR  — VIP/32 on lo; arp_ignore=1 (answer ARP only for addresses on the receiving interface)
 *       and arp_announce=2 (never use the VIP as ARP source) for all and lo.
 * TUN — tunl0 up carrying VIP/32; rp_filter=0 for all and tunl0, since decapsulated packets
 *       arrive on tunl0 with a source routed elsewhere.
 * NAT — nothing to set: replies must route back through the director (checked, not changed).
 */
export function realServerPlan(vips: RealServerVip[]): RealServerPlan {
  const plan: RealServerPlan = { addresses: [], sysctls: {}, tunl0: false, natChecks: [] };
  const seen = new Set<string>();
  const addr = (a: HostAddress) => {
    const key = `${a.ifname}|${a.address}`;
    if (seen.has(key)) return;
    plan.addresses.push(a);
    seen.add(key);
  };
  for (const v of vips) {
    if (v.forwarding === 'dr') {
      addr({ ifname: 'lo', address: v.address, prefix: 32, label: LO_LABEL });
      for (const c of ['all', 'lo']) {
        plan.sysctls[`net.ipv4.conf.${c}.arp_ignore`] = '1';
        plan.sysctls[`net.ipv4.conf.${c}.arp_announce`] = '2';
      }
    } else if (v.forwarding === 'tun') {
      plan.tunl0 = true;
      addr({ ifname: 'tunl0', address: v.address, prefix: 32, label: null });
      for (const c of ['all', 'tunl0']) plan.sysctls[`net.ipv4.conf.${c}.rp_filter`] = '0';
    } else {
      plan.natChecks.push({ vip: v.address, expectedGateways: v.expectedGateways });
    }
  }
  return plan;
}
