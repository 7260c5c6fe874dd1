import type { ResolvedVip } from '../config/node-config.ts';
import type { Vip } from '../site/vrrp.ts';
import { splitCidr } from '../util/ip.ts';

/** keepalived virtual_ipaddress: a bare address is a /32 on the instance's interface. */
export function resolveVip(v: Vip, iface: string): ResolvedVip {
  const obj = typeof v === 'string' ? { address: v } : v;
  const { address, prefix } = splitCidr(obj.address);
  return { address, interface: obj.interface ?? iface, label: obj.label ?? null, prefix };
}

export function resolveNotify(n: { master?: string; backup?: string; fault?: string; stop?: string; any?: string } | undefined) {
  return { any: n?.any ?? null, backup: n?.backup ?? null, fault: n?.fault ?? null, master: n?.master ?? null, stop: n?.stop ?? null };
}
