import { internetChecksum } from './checksum.ts';
import { ip6Bytes } from './ipv6-address.ts';

/** ICMPv6 (RFC 4443) and its Neighbor Advertisement type (RFC 4861 §4.4). */
const ICMPV6 = 58;
const NEIGHBOR_ADVERTISEMENT = 136;
/** NA flags: R (router) 0x80, S (solicited) 0x40, O (override) 0x20. */
const FLAG_ROUTER = 0x80;
const FLAG_OVERRIDE = 0x20;
/** Option 2, Target Link-Layer Address (RFC 4861 §4.6.1), 8 bytes on Ethernet. */
const OPTION_TARGET_LLADDR = 2;
/** ff02::1 and its Ethernet multicast 33:33:00:00:00:01 (RFC 2464 §7). */
const ALL_NODES = 'ff02::1';
const ALL_NODES_MAC = Buffer.from([0x33, 0x33, 0, 0, 0, 1]);

/** Six bytes of a MAC written `aa:bb:cc:dd:ee:ff`; throws on anything else. */
function macBytes(mac: string): Buffer {
  if (!/^[\da-f]{2}(:[\da-f]{2}){5}$/i.test(mac)) throw new Error(`not a MAC address: ${mac}`);
  return Buffer.from(mac.replaceAll(':', ''), 'hex');
}

/**
 * One unsolicited Neighbor Advertisement for a virtual IPv6 address, as an Ethernet frame: the
 * IPv6 counterpart of a gratuitous ARP (RFC 4861 §7.2.6). What keepalived sends for each IPv6
 * VIP when it becomes MASTER (`vrrp_garp_master_repeat` of them, byte for byte the frames
 * captured from it): to ff02::1 from the VIP itself, hop limit 255 (receivers drop anything
 * else, §7.1.2), Override set so neighbours replace a cached MAC, Solicited clear, and the Target
 * Link-Layer Address option carrying the interface's MAC. Router is set when the interface
 * forwards IPv6 (keepalived reads `net.ipv6.conf.IF.forwarding` the same way): a neighbour that
 * used the address as a router must not be told it is a host (§7.2.5 clears IsRouter).
 */
export function encodeUnsolicitedNa(target: string, mac: string, o: { router?: boolean } = {}): Buffer {
  const hw = macBytes(mac);
  const addr = ip6Bytes(target);
  const dst = ip6Bytes(ALL_NODES);
  const icmp = Buffer.alloc(32);
  icmp[0] = NEIGHBOR_ADVERTISEMENT;
  icmp[4] = FLAG_OVERRIDE | (o.router ? FLAG_ROUTER : 0);
  icmp.set(addr, 8);
  icmp[24] = OPTION_TARGET_LLADDR;
  icmp[25] = 1; // in units of 8 bytes
  icmp.set(hw, 26);
  // RFC 4443 §2.3: the checksum covers the RFC 8200 §8.1 pseudo-header.
  const pseudo = Buffer.alloc(40);
  pseudo.set(addr, 0);
  pseudo.set(dst, 16);
  pseudo.writeUInt32BE(icmp.length, 32);
  pseudo[39] = ICMPV6;
  icmp.writeUInt16BE(internetChecksum(pseudo, icmp), 2);
  const ip = Buffer.alloc(40);
  ip[0] = 0x60;
  ip.writeUInt16BE(icmp.length, 4);
  ip[6] = ICMPV6;
  ip[7] = 255;
  ip.set(addr, 8);
  ip.set(dst, 24);
  return Buffer.concat([ALL_NODES_MAC, hw, Buffer.from([0x86, 0xdd]), ip, icmp]);
}
