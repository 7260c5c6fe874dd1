import { performance } from 'node:perf_hooks';
import type { ResolvedVip } from '#shared/config/node-config.ts';
import type { SyncDaemonConfig, VrrpHost } from '../../dataplane/vrrp-host.ts';
import { encodeIpPacket } from '../codec.ts';

/** What one in-memory host did, for assertions. */
export interface MemoryHostRecord {
  vips: Set<string>;
  garps: number;
  notifications: string[][];
  /** Each sync-daemon set asked for: `master+backup`, or `stop`. */
  syncDaemon: string[];
  /** Each hold of unsynced connections asked for, by its release delay (null: held). */
  holds: (number | null)[];
  /** The settings of the last sync-daemon start (its group undefined: the kernel's default). */
  syncConfig?: SyncDaemonConfig;
  links: Map<string, boolean>;
  /** Track scripts answer from here (command → success). */
  scripts: Map<string, boolean>;
  /** When false, this host neither sends nor receives (a cut cable / nft drop). */
  connected: boolean;
  /** Packets handed to this host's channel (each after its handler returned). */
  received: number;
}

/**
 * A LAN in memory for driver tests on real timers: adverts are wrapped in real IPv4 headers
 * (TTL 255) and delivered to every other host's channel on the next tick, or to the unicast
 * destination only.
 */
export class MemoryLan {
  private receivers = new Map<string, (p: Buffer) => void>();
  readonly records = new Map<string, MemoryHostRecord>();

  host(address: string): VrrpHost {
    const rec: MemoryHostRecord = {
      vips: new Set(),
      garps: 0,
      notifications: [],
      syncDaemon: [],
      holds: [],
      links: new Map(),
      scripts: new Map(),
      connected: true,
      received: 0,
    };
    this.records.set(address, rec);
    const watchers = new Set<(l: Map<string, boolean>) => void>();
    const key = (v: ResolvedVip) => `${v.address}/${v.prefix}@${v.interface}`;
    (rec as MemoryHostRecord & { setLink(i: string, up: boolean): void }).setLink = (i, up) => {
      rec.links.set(i, up);
      for (const w of watchers) w(new Map(rec.links));
    };
    return {
      now: () => performance.now(),
      openChannel: async (_o, onPacket) => {
        this.receivers.set(address, onPacket);
        return {
          send: (vrrp, destination) => {
            if (!rec.connected) return;
            const pkt = encodeIpPacket(vrrp, address, destination);
            setImmediate(() => {
              for (const [addr, rx] of this.receivers) {
                if (addr === address || !this.records.get(addr)!.connected) continue;
                if (destination !== '224.0.0.18' && destination !== addr) continue;
                rx(Buffer.from(pkt));
                this.records.get(addr)!.received++;
              }
            });
          },
          close: async () => {
            this.receivers.delete(address);
          },
        };
      },
      addVips: async (vips) => vips.forEach((v) => rec.vips.add(key(v))),
      removeVips: async (vips) => vips.forEach((v) => rec.vips.delete(key(v))),
      garp: async (_i, _a, count) => {
        rec.garps += count;
      },
      links: async () => new Map(rec.links),
      watchLinks: (cb) => (watchers.add(cb), () => watchers.delete(cb)),
      runScript: async (command) => rec.scripts.get(command) ?? true,
      notify: (command, args) => rec.notifications.push([command, ...args]),
      syncDaemons: async (daemons, config) => {
        rec.syncDaemon.push(daemons.length ? daemons.join('+') : 'stop');
        if (daemons.length) rec.syncConfig = { ...config };
      },
      holdUnsynced: async (_name, _addresses, releaseAfterMs) => {
        rec.holds.push(releaseAfterMs);
      },
      lingerVips: async () => {},
      close: async () => {},
    };
  }

  /** Flips a link on a host and tells its watchers (like `ip monitor link`). */
  setLink(address: string, iface: string, up: boolean): void {
    (this.records.get(address) as MemoryHostRecord & { setLink(i: string, up: boolean): void }).setLink(iface, up);
  }
}
