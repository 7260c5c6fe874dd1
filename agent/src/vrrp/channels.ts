import type { VrrpChannel, VrrpHost } from '../dataplane/vrrp-host.ts';
import { checkAdvert, decodePacket, newDropCounters, type DropCounters } from './codec.ts';
import type { InstanceRuntime } from './instance.ts';

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

  channel(iface: string): VrrpChannel | undefined {
    return this.channels.get(iface)?.channel;
  }

  /** Opens/closes sockets so that exactly the interfaces of `instances` have one. */
  async sync(instances: InstanceRuntime[]): Promise<void> {
    this.instances = instances;
    const want = new Map<string, { multicast: boolean; source: string }>();
    for (const rt of instances) {
      const w = want.get(rt.cfg.interface);
      want.set(rt.cfg.interface, { multicast: (w?.multicast ?? false) || !rt.cfg.unicast, source: w?.source ?? rt.cfg.sourceAddress });
    }
    for (const [iface, c] of this.channels) {
      const w = want.get(iface);
      if (!w || w.multicast !== c.multicast || w.source !== c.source) {
        await c.channel.close();
        this.channels.delete(iface);
      }
    }
    for (const [iface, w] of want) {
      if (this.channels.has(iface)) continue;
      const channel = await this.host.openChannel(
        { interface: iface, sourceAddress: w.source, multicast: w.multicast },
        (p) => this.onPacket(iface, p),
        (e) => this.log(`vrrp: socket on ${iface}: ${e.message}`),
      );
      this.channels.set(iface, { channel, ...w });
    }
  }

  private onPacket(iface: string, packet: Buffer): void {
    const r = decodePacket(packet);
    if (!r.ok) {
      this.drops[r.reason]++;
      return;
    }
    const a = r.advert;
    let mine: InstanceRuntime | undefined;
    for (const rt of this.instances) {
      if (rt.cfg.interface !== iface) continue;
      if (rt.cfg.sourceAddress === a.source) return; // our own advert looped back
      if (rt.cfg.vrid === a.vrid) mine = rt;
    }
    if (!mine) {
      this.drops.vrid++;
      return;
    }
    const c = mine.cfg;
    const bad = checkAdvert(a, { version: c.version, intervalMs: c.advertIntervalMs, password: c.auth?.password ?? null });
    if (bad) {
      this.drops[bad]++;
      return;
    }
    mine.feed({ type: 'advert', source: a.source, priority: a.priority, intervalMs: a.intervalMs });
  }

  async close(): Promise<void> {
    await Promise.all([...this.channels.values()].map((c) => c.channel.close()));
    this.channels.clear();
  }
}
