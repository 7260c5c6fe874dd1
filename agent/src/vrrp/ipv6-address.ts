import ipaddr from 'ipaddr.js';

/** The 16 bytes of an IPv6 address (RFC 4291 §2.2 text); throws on text that is not one. */
export function ip6Bytes(ip: string): Buffer {
  return Buffer.from(ipaddr.IPv6.parse(ip).toByteArray());
}

/** RFC 5952 text (lower case, longest run of zero groups compressed) of 16 address bytes. */
export function ip6Text(b: Uint8Array): string {
  return ipaddr.fromByteArray([...b]).toString();
}
