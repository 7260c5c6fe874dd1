import { isValidIpv6 } from '#shared/util/ip.ts';
import type { RealServerVip } from '#shared/config/node-config.ts';
import type { HostAddress, TunnelDevice } from '../dataplane/types.ts';
import { AgentError } from '../errors.ts';

export interface RealServerPlan {
  addresses: HostAddress[];
  sysctls: Record<string, string>;
  /** Tunnel devices to bring up: tunl0 (ipip) for IPv4 TUN VIPs, lvs6tnl0 (ip6ip6) for IPv6 ones. */
  tunnels: TunnelDevice[];
  natChecks: { vip: string; expectedGateways: string[] }[];
}

/** Label of the IPv4 VIPs the role puts on lo, so an operator sees who put them there. */
const LO_LABEL = 'lo:lvs';

/**
 * What a real server needs for its VIPs (LVS-HOWTO "the ARP problem"):
 * DR  — IPv4: VIP/32 on lo; arp_ignore=1 (answer ARP only for addresses on the receiving
 *       interface) and arp_announce=2 (never use the VIP as ARP source) for all and lo.
 *       IPv6: VIP/128 on lo and nothing else. Neighbor Discovery already behaves like
 *       arp_ignore=1 + arp_announce=2: a Neighbor Solicitation is answered only for a target
 *       configured on the interface it arrived on (ndisc_recv_ns looks the target up strictly
 *       on that device), and a solicitation the host sends takes its source from the outgoing
 *       interface's own addresses, never from lo. lo does no DAD, so adding the VIP sends no
 *       NS/NA either. `realserver.lab.test.ts` proves both directions on veth. /128, not the
 *       VIP's prefix: a /64 on lo would route the whole subnet to lo. The one switch that can
 *       stop the VIP being added is `disable_ipv6` on lo, so the role wants it 0.
 * TUN — IPv4: tunl0 up carrying VIP/32; rp_filter=0 for all and tunl0, since decapsulated
 *       packets arrive on tunl0 with a source routed elsewhere. IPv6: IPVS encapsulates in
 *       IPv6 (ip6ip6) from a source the director picks by RFC 6724, and Linux caps rule 8
 *       (longest matching prefix) at each address's prefix length, so a director holding the
 *       VIP in the real servers' subnet sends from the VIP itself, an address this real server
 *       also holds. The fallback device ip6tnl0 drops such packets (ip6_tnl_rcv_ctl refuses a
 *       remote that is a local address unless the tunnel has allow-localremote, which
 *       ip6tnl0 cannot be given: ip6_tnl0_update changes only its protocol); the kernel lab's
 *       ipv6 scenario saw every v6 TUN request time out that way. So the role makes its own
 *       ip6ip6 device lvs6tnl0, local = this node's IPv6 address (where directors send),
 *       remote any, allow-localremote, and puts VIP/128 on it. IPv6 has no rp_filter sysctl
 *       (reverse-path filtering there is an nft `fib` rule, which the role neither adds nor
 *       needs).
 * NAT — replies must route back through the director (checked, not changed). IPv4: nothing to
 *       set (the directors send no redirects: send_redirects=0). IPv6 has no send_redirects: a
 *       director forwarding a reply out of the interface it came in on always sends a Redirect
 *       (RFC 4861 §8.2), and a real server that takes it sends its next replies straight to the
 *       client, unrewritten (the kernel lab's ipv6 scenario saw every v6 NAT request time out that
 *       way). So the real server stops accepting redirects on its interface: accept_redirects=0
 *       there and for `default`, since the kernel reads it per interface (rt6_do_redirect).
 */
export function realServerPlan(vips: RealServerVip[], iface: string, address6: string | null = null): RealServerPlan {
  const plan: RealServerPlan = { addresses: [], sysctls: {}, tunnels: [], natChecks: [] };
  const seen = new Set<string>();
  const addr = (a: HostAddress) => {
    const key = `${a.ifname}|${a.address}`;
    if (seen.has(key)) return;
    plan.addresses.push(a);
    seen.add(key);
  };
  const tunnel = (t: TunnelDevice) => {
    if (!plan.tunnels.some((p) => p.ifname === t.ifname)) plan.tunnels.push(t);
  };
  for (const v of vips) {
    const v6 = isValidIpv6(v.address);
    if (v.forwarding === 'dr') {
      if (v6) {
        // Linux keeps no label on an IPv6 address (IFA_LABEL is IPv4 only), so none is asked for.
        addr({ ifname: 'lo', address: v.address, prefix: 128, label: null });
        plan.sysctls['net.ipv6.conf.lo.disable_ipv6'] = '0';
        continue;
      }
      addr({ ifname: 'lo', address: v.address, prefix: 32, label: LO_LABEL });
      for (const c of ['all', 'lo']) {
        plan.sysctls[`net.ipv4.conf.${c}.arp_ignore`] = '1';
        plan.sysctls[`net.ipv4.conf.${c}.arp_announce`] = '2';
      }
    } else if (v.forwarding === 'tun') {
      if (v6) {
        if (!address6)
          throw new AgentError('INVALID_INPUT', `TUN VIP ${v.address}: the node has no IPv6 address (node.address or node.address6) for its ip6ip6 tunnel`);
        tunnel({ ifname: 'lvs6tnl0', local: address6 });
        addr({ ifname: 'lvs6tnl0', address: v.address, prefix: 128, label: null });
        continue;
      }
      tunnel({ ifname: 'tunl0' });
      addr({ ifname: 'tunl0', address: v.address, prefix: 32, label: null });
      for (const c of ['all', 'tunl0']) plan.sysctls[`net.ipv4.conf.${c}.rp_filter`] = '0';
    } else {
      plan.natChecks.push({ vip: v.address, expectedGateways: v.expectedGateways });
      if (v6) for (const c of ['default', iface]) plan.sysctls[`net.ipv6.conf.${c}.accept_redirects`] = '0';
    }
  }
  return plan;
}
