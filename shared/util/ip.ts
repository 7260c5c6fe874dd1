import { z } from 'zod';

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
export const IPV4_RE = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);
export const CIDR4_RE = new RegExp(`^${OCTET}(\\.${OCTET}){3}(\\/(3[0-2]|[12]?\\d))?$`);

export const Ipv4 = z.string().regex(IPV4_RE, { message: 'expected an IPv4 address like 192.168.1.150' });
export const Cidr4 = z.string().regex(CIDR4_RE, { message: 'expected an IPv4 address with an optional prefix, like 192.168.1.150/32' });

/** 32-bit unsigned integer of a dotted quad. */
export function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

/** Splits `a.b.c.d/len` (len defaults to 32). */
export function splitCidr(cidr: string): { address: string; prefix: number } {
  const [address, len] = cidr.split('/');
  return { address, prefix: len === undefined ? 32 : Number(len) };
}

export function prefixToMask(prefix: number): string {
  return intToIp(prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
}

/** Netmask `255.255.255.0` → 24, or null when the mask is not contiguous. */
export function maskToPrefix(mask: string): number | null {
  const n = ipToInt(mask);
  let bits = 0;
  while (bits < 32 && ((n >>> (31 - bits)) & 1) === 1) bits++;
  if (bits === 32) return 32; // a shift by 32 is a shift by 0 in JS
  return (n << bits) >>> 0 === 0 ? bits : null;
}

export function inSubnet(ip: string, network: string, prefix: number): boolean {
  if (prefix === 0) return true;
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  return (ipToInt(ip) & mask) === (ipToInt(network) & mask);
}

/** Compares two IPv4 addresses numerically (RFC 5798 §6.4.3 tie-break uses this order). */
export function compareIp(a: string, b: string): number {
  return Math.sign(ipToInt(a) - ipToInt(b));
}
