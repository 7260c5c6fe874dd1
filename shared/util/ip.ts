import ipaddr from 'ipaddr.js';
import * as z from 'zod';

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

/** Splits `address/len` of either family (len defaults to the host prefix, 32 or 128). */
export function splitCidr(cidr: string): { address: string; prefix: number } {
  const [address, len] = cidr.split('/');
  return { address, prefix: len === undefined ? (address.includes(':') ? 128 : 32) : Number(len) };
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

/** True when `ip` is in `network/prefix`; addresses of different families never are. */
export function inSubnet(ip: string, network: string, prefix: number): boolean {
  const family = ipFamily(ip);
  if (family !== ipFamily(network)) return false;
  if (family === 6) {
    const [a, b] = [ipv6Bytes(ip), ipv6Bytes(network)];
    for (let bit = 0; bit < prefix; bit += 8) {
      const mask = (0xff << (8 - Math.min(8, prefix - bit))) & 0xff;
      if ((a[bit / 8] & mask) !== (b[bit / 8] & mask)) return false;
    }
    return true;
  }
  if (prefix === 0) return true;
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  return (ipToInt(ip) & mask) === (ipToInt(network) & mask);
}

/**
 * Compares two addresses of one family numerically (RFC 5798 §6.4.3 tie-break: the larger primary
 * address wins, as an unsigned integer of 32 or 128 bits); IPv4 sorts before IPv6.
 */
export function compareIp(a: string, b: string): number {
  const [fa, fb] = [a.includes(':'), b.includes(':')];
  if (fa !== fb) return fa ? 1 : -1;
  if (!fa) return Math.sign(ipToInt(a) - ipToInt(b));
  const [x, y] = [ipv6Bytes(a), ipv6Bytes(b)];
  for (let i = 0; i < 16; i++) if (x[i] !== y[i]) return Math.sign(x[i] - y[i]);
  return 0;
}

/*
 * IPv6 and either family. Parsing and RFC 5952 text come from ipaddr.js; this module narrows what
 * it accepts to what an LVS site can use: no zone index (`%eth0`: the interface is a field of its
 * own), no embedded dotted quad (`::ffff:1.2.3.4`, `::1.2.3.4`: IPv4-mapped and -compatible
 * addresses are IPv4 traffic, which IPVS serves as IPv4), no prefix inside the address.
 */

/** Address family as IPVS and keepalived name it: 4 (AF_INET) or 6 (AF_INET6). */
export type IpFamily = 4 | 6;

/** True for an IPv6 address in any RFC 4291 §2.2 text form lvsfleet takes (hex groups, `::`). */
export function isIpv6(s: string): boolean {
  if (!/^[0-9A-Fa-f:]+$/.test(s) || !ipaddr.IPv6.isValid(s)) return false;
  return ipaddr.IPv6.parse(s).range() !== 'ipv4Mapped';
}

/**
 * IPv6 or not, for an address already validated (a compiled config, the planner's output): IPv6
 * text always has a colon and IPv4 never does. node:net's isIPv6 answers the same through one
 * large regular expression that V8 compiles at its first calls, 10–60 ms of an agent's start.
 */
export function isValidIpv6(address: string): boolean {
  return address.includes(':');
}

/** The family of an address (4 or 6), or null when it is neither. */
export function ipFamily(s: string): IpFamily | null {
  return IPV4_RE.test(s) ? 4 : isIpv6(s) ? 6 : null;
}

/**
 * The one stored, compared and printed form of an address: IPv4 as it is (the schema refuses
 * leading zeros), IPv6 in RFC 5952 §4 form (lower case, leading zeros dropped, the longest run of
 * two or more zero groups as `::`), so `2001:DB8::0:10` and `2001:db8::10` are one address.
 * Anything else is returned unchanged, for the schema to refuse.
 */
export function canonicalIp(s: string): string {
  return isIpv6(s) ? ipaddr.IPv6.parse(s).toRFC5952String() : s;
}

/** `address/prefix` with the address canonical; a prefix is kept as written (the schema checks it). */
function canonicalCidr(s: string): string {
  const slash = s.indexOf('/');
  return slash < 0 ? canonicalIp(s) : `${canonicalIp(s.slice(0, slash))}${s.slice(slash)}`;
}

const IPV6_MESSAGE = 'expected an IPv6 address like 2001:db8::10 (no zone index, no embedded IPv4)';
export const Ipv6 = z.string().refine(isIpv6, { message: IPV6_MESSAGE }).overwrite(canonicalIp);

/** An address of either family; IPv6 is stored in RFC 5952 form. */
export const IpAddress = z
  .string()
  .refine((s) => ipFamily(s) !== null, { message: 'expected an IPv4 or IPv6 address, like 192.168.1.150 or 2001:db8::10' })
  .overwrite(canonicalIp);

/**
 * An address of either family already in its one stored form (`canonicalIp`), taken as written:
 * what a compiled config carries on the wire. Another spelling is refused, not rewritten, so the
 * wire schemas change nothing they parse: their output is their input (the agent relies on it to
 * reuse claims its own build checked once; `shared/wire/schemas.test.ts` walks them for rewrites).
 */
export const CanonicalIpAddress = z.string().refine((s) => ipFamily(s) !== null && canonicalIp(s) === s, {
  message: 'expected an IPv4 or IPv6 address in its canonical form (IPv6 as RFC 5952 writes it, like 2001:db8::10)',
});

/** An IPv6 address in RFC 5952 form, taken as written (see CanonicalIpAddress). */
export const CanonicalIpv6 = z.string().refine((s) => isIpv6(s) && canonicalIp(s) === s, {
  message: 'expected an IPv6 address as RFC 5952 writes it, like 2001:db8::10',
});

/** True for `address` or `address/prefix` of either family, the prefix within the family's length. */
function isCidr(s: string): boolean {
  const slash = s.indexOf('/');
  const family = ipFamily(slash < 0 ? s : s.slice(0, slash));
  if (family === null) return false;
  if (slash < 0) return true;
  const len = s.slice(slash + 1);
  return /^(0|[1-9]\d{0,2})$/.test(len) && Number(len) <= hostPrefix(family);
}

/** A VIP of either family with an optional prefix (default the host prefix: /32 or /128). */
export const Cidr = z
  .string()
  .refine(isCidr, { message: 'expected an address with an optional prefix, like 192.168.1.150/32 or 2001:db8::10/64' })
  .overwrite(canonicalCidr);

/** The prefix length of one host: 32 for IPv4, 128 for IPv6 (keepalived's default for a bare VIP). */
export function hostPrefix(family: IpFamily): number {
  return family === 6 ? 128 : 32;
}

/** A multicast address of either family: 224.0.0.0/4 (RFC 5771) or ff00::/8 (RFC 4291 §2.7). */
export function isMulticast(address: string): boolean {
  const f = ipFamily(address);
  return f === 4 ? ipToInt(address) >>> 28 === 0xe : f === 6 && ipaddr.IPv6.parse(address).range() === 'multicast';
}

/** RFC 4291 §2.5.6: fe80::/10, valid only on one link, so it needs an interface to mean anything. */
export function isLinkLocal(address: string): boolean {
  return isIpv6(address) && ipaddr.IPv6.parse(address).range() === 'linkLocal';
}

/**
 * `address:port` as people and tools write it: IPv6 in brackets (RFC 3986 §3.2.2, RFC 5952 §6),
 * so `[2001:db8::10]:80` and `192.168.1.150:80`. The one formatter for every printed endpoint.
 */
export function formatHostPort(address: string, port: number | string): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/** Splits `address:port` or `[v6]:port` (the form formatHostPort prints), or null when it is neither. */
export function splitHostPort(text: string): { address: string; port: string } | null {
  const m = /^\[([^\]]+)\]:([^:]*)$/.exec(text) ?? /^([^:[\]]+):([^:]*)$/.exec(text);
  return m ? { address: m[1], port: m[2] } : null;
}

/** The 16 bytes of an IPv6 address, for comparisons and prefix tests. */
function ipv6Bytes(address: string): number[] {
  return ipaddr.IPv6.parse(address).toByteArray();
}
