import type { ResolvedVip } from '../config/node-config.ts';
import type { Vip } from '../site/vrrp.ts';
import { splitCidr } from '../util/ip.ts';

/** keepalived virtual_ipaddress: a bare address is a /32 on the instance's interface. */
export function resolveVip(v: Vip, iface: string): ResolvedVip {
  const obj = typeof v === 'string' ? { address: v } : v;
  const { address, prefix } = splitCidr(obj.address);
  return { address, prefix, interface: obj.interface ?? iface, label: obj.label ?? null };
}

export function resolveNotify(n: { master?: string; backup?: string; fault?: string; stop?: string; any?: string } | undefined) {
  return { master: n?.master ?? null, backup: n?.backup ?? null, fault: n?.fault ?? null, stop: n?.stop ?? null, any: n?.any ?? null };
}
