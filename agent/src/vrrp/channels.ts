import type { VrrpChannel, VrrpHost } from '../dataplane/vrrp-host.ts';
import { AUTH_AH, AUTH_NONE, AUTH_PASS, checkAdvert, decodePacket, newDropCounters, type Advert, type DropCounters, type DropReason } from './codec.ts';
import type { InstanceRuntime, VrrpStat } from './instance.ts';
import { ip6Bytes } from './ipv6-address.ts';

/**
 * The keepalived statistic a drop counts as on the instance that owns the VRID. Reasons keepalived
 * has no per-instance statistic for (checksum, version, not VRRP, unknown VRID) stay in the
 * per-reason drop counters only; `auth` is split by `authStat`.
 */
const DROP_STAT: Record<Exclude<DropReason, 'auth'>, VrrpStat | null> = {
  ttl: 'ip_ttl_err',
  peer: null,
  length: 'packet_len_err',
  type: 'invalid_type_rcvd',
  interval: 'advert_interval_err',
  // We never configure AH: keepalived counts an auth type other than the configured one as a mismatch.
  auth_ah: 'authtype_mismatch',
  checksum: null,
  version: null,
  not_vrrp: null,
  vrid: null,
};

/** keepalived: an unknown auth type, then a type other than ours, then a wrong password. */
function authStat(a: Advert, password: string | null): VrrpStat {
  if (a.authType !== AUTH_NONE && a.authType !== AUTH_PASS && a.authType !== AUTH_AH) return 'invalid_authtype';
  return a.authType !== (password ? AUTH_PASS : AUTH_NONE) ? 'authtype_mismatch' : 'auth_failure';
}

/** The VRID of a packet that failed decoding, when it is long enough to carry one. */
function peekVrid(b: Buffer): number | null {
  if (b.length < 1 || (b[0] >> 4 !== 4 && b[0] >> 4 !== 6)) return null;
  const at = b[0] >> 4 === 6 ? 41 : (b[0] & 0x0f) * 4 + 1;
  return b.length > at ? b[at] : null;
}

/**
 * The channel of an instance: one per interface and address family. IPv4 and IPv6 instances with
 * the same VRID on one link are different routers (RFC 5798 §5.2.3: the VRID space is per family).
 */
const channelKey = (iface: string, ipv6: boolean) => (ipv6 ? `${iface}#6` : iface);
const isV6 = (rt: InstanceRuntime) => rt.cfg.family === 6;

/** One address in two spellings (IPv6 text is not unique: `2001:DB8::1`, `2001:db8:0::1`). */
function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  if (!a.includes(':') || !b.includes(':')) return false;
  try {
    return ip6Bytes(a).equals(ip6Bytes(b));
  } catch {
    return false;
  }
}

/** Is `source` one of a unicast instance's peers (members' addresses and unicastPeers)? */
const fromPeer = (rt: InstanceRuntime, source: string) => rt.cfg.peers.some((p) => sameAddress(p.address, source));

/**
 * One raw socket per interface, shared by the instances on it (keepalived does the same):
 * decodes each packet once, counts drops per reason, and hands valid adverts to the instance
 * owning the VRID.
 */
export class ChannelMux {
  readonly drops: DropCounters = newDropCounters();
  private channels = new Map<string, { channel: VrrpChannel; multicast: boolean; source: string }>();
  private instances: InstanceRuntime[] = [];

  constructor(
    private host: VrrpHost,
    private log: (line: string) => void,
  ) {}

  /** The channel carrying the instances of `iface` of one family. */
  channel(iface: string, ipv6: boolean): VrrpChannel | undefined {
    return this.channels.get(channelKey(iface, ipv6))?.channel;
  }

  /** Opens/closes sockets so that exactly the interfaces of `instances` have one. */
  async sync(instances: InstanceRuntime[]): Promise<void> {
    this.instances = instances;
    const want = new Map<string, { iface: string; ipv6: boolean; multicast: boolean; source: string }>();
    for (const rt of instances) {
      const key = channelKey(rt.cfg.interface, isV6(rt));
      const w = want.get(key);
      want.set(key, {
        iface: rt.cfg.interface,
        ipv6: isV6(rt),
        multicast: (w?.multicast ?? false) || !rt.cfg.unicast,
        source: w?.source ?? rt.cfg.sourceAddress,
      });
    }
    for (const [key, c] of this.channels) {
      const w = want.get(key);
      if (!w || w.multicast !== c.multicast || w.source !== c.source) {
        await c.channel.close();
        this.channels.delete(key);
      }
    }
    for (const [key, { iface, ipv6, multicast, source }] of want) {
      if (this.channels.has(key)) continue;
      const channel = await this.host.openChannel(
        { interface: iface, sourceAddress: source, multicast, ...(ipv6 ? { ipv6 } : {}) },
        (p) => this.onPacket(iface, p),
        (e) => this.log(`vrrp: socket on ${iface}: ${e.message}`),
      );
      this.channels.set(key, { channel, multicast, source });
    }
  }

  private onPacket(iface: string, packet: Buffer): void {
    let r = decodePacket(packet);
    // Instances of the packet's family only (an undecodable packet's first nibble still says which).
    const v6 = packet.length > 0 && packet[0] >> 4 === 6;
    const ours = (rt: InstanceRuntime) => rt.cfg.interface === iface && isV6(rt) === v6;
    if (!r.ok && r.reason === 'ttl') {
      // A unicast instance takes its listed peers' adverts at any TTL, as keepalived does: its
      // unicast IPv6 adverts leave with the default hop limit (64, measured in the netns lab), and
      // a unicast peer may be routed. The sender's address is what is checked instead (below).
      const anyTtl = decodePacket(packet, { anyTtl: true });
      if (anyTtl.ok && this.instances.some((rt) => ours(rt) && rt.cfg.unicast && rt.cfg.vrid === anyTtl.advert.vrid && fromPeer(rt, anyTtl.advert.source)))
        r = anyTtl;
    }
    if (!r.ok) {
      this.drops[r.reason]++;
      // keepalived finds the instance by VRID before checking a packet, and counts its errors there.
      const vrid = peekVrid(packet);
      const stat = r.reason === 'auth' ? null : DROP_STAT[r.reason];
      const owner = stat && vrid !== null ? this.instances.find((rt) => ours(rt) && rt.cfg.vrid === vrid) : undefined;
      if (owner && stat) owner.counters[stat]++;
      return;
    }
    const a = r.advert;
    let mine: InstanceRuntime | undefined;
    for (const rt of this.instances) {
      if (!ours(rt)) continue;
      // Our own advert looped back (over IPv6 it leaves from the channel's link-local address).
      if (rt.cfg.sourceAddress === a.source || this.channel(iface, v6)?.sourceAddress === a.source) return;
      if (rt.cfg.vrid === a.vrid) mine = rt;
    }
    if (!mine) {
      this.drops.vrid++;
      return;
    }
    const c = mine.cfg;
    // Unicast: adverts only from the peers the instance lists (keepalived check_unicast_src).
    if (c.unicast && !fromPeer(mine, a.source)) {
      this.drops.peer++;
      return;
    }
    const password = c.auth?.password ?? null;
    const bad = checkAdvert(a, { version: c.version, intervalMs: c.advertIntervalMs, password });
    if (bad) {
      this.drops[bad]++;
      const stat = bad === 'auth' ? authStat(a, password) : DROP_STAT[bad];
      if (stat) mine.counters[stat]++;
      return;
    }
    mine.counters.advert_rcvd++;
    if (a.priority === 0) mine.counters.pri_zero_rcvd++;
    // keepalived drops an advert whose address count differs from its VIPs; we count it and keep
    // the advert (the election does not depend on the list; RFC 5798 §7.1 makes the check a MAY).
    if (a.addresses.length !== c.vips.length) mine.counters.addr_list_err++;
    mine.feed({ type: 'advert', source: a.source, priority: a.priority, intervalMs: a.intervalMs });
  }

  async close(): Promise<void> {
    await Promise.all([...this.channels.values()].map((c) => c.channel.close()));
    this.channels.clear();
  }
}
