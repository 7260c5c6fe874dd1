import { endianness } from 'node:os';
import { canonicalIp } from '#shared/util/ip.ts';
import type { HostRoute } from './types.ts';

/** route(8)'s flags in both files: the route is up; it goes through a gateway; it rejects (unreachable). */
const RTF_UP = 0x1;
const RTF_GATEWAY = 0x2;
const RTF_REJECT = 0x200;

/**
 * The IPv4 default routes of /proc/net/route (the main table, as `ip -4 route show default`):
 * destination and mask 0. Addresses there are 32-bit hex in the host's byte order.
 */
export function parseDefaultRoutes4(text: string, order: 'LE' | 'BE' = endianness()): HostRoute[] {
  const out: HostRoute[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [dev, dest, gw, flags, , , , mask] = line.trim().split(/\s+/);
    if (!dev || dest !== '00000000' || mask !== '00000000') continue;
    const f = parseInt(flags, 16);
    if (!(f & RTF_UP) || f & RTF_REJECT) continue;
    const bytes = (gw.match(/../g) ?? []).map((b) => parseInt(b, 16));
    if (order === 'LE') bytes.reverse();
    out.push({ gateway: f & RTF_GATEWAY ? bytes.join('.') : null, dev });
  }
  return out;
}

/**
 * The IPv6 default routes of /proc/net/ipv6_route: destination ::/0, up, not the kernel's
 * unreachable entry. Unlike `ip -6 route show default` this lists every routing table's; only a
 * policy-routing host has a default route outside main, and its gateway is one more, not a wrong one.
 */
export function parseDefaultRoutes6(text: string): HostRoute[] {
  const out: HostRoute[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^0{32}$/.test(f[0]) || f[1] !== '00') continue;
    const flags = parseInt(f[8], 16);
    if (!(flags & RTF_UP) || flags & RTF_REJECT) continue;
    const hop = f[4];
    const gateway = /^0{32}$/.test(hop) ? null : canonicalIp((hop.match(/.{4}/g) ?? []).join(':'));
    out.push({ gateway, dev: f[9] });
  }
  return out;
}
