import { performance } from 'node:perf_hooks';
import type { ResolvedVip } from '#shared/config/node-config.ts';
import { LINGER_TABLE, lingerArpTable } from './vip-linger.ts';
import { syncDaemonArgs, type VrrpChannel, type VrrpHost } from './vrrp-host.ts';

const fmt = (v: ResolvedVip) => `${v.address}/${v.prefix} dev ${v.interface}${v.label ? ` label ${v.label}` : ''}`;

/**
 * A VrrpHost that changes nothing: it logs what the Linux host would do. Channels send and hear
 * nothing, so every instance ends up MASTER after its master-down interval; links are reported up
 * and track scripts as succeeding (they are not run).
 */
export function createDryRunVrrpHost(log: (line: string) => void): VrrpHost {
  return {
    now: () => performance.now(),
    async openChannel(o): Promise<VrrpChannel> {
      log(`dry-run: open VRRP socket on ${o.interface} from ${o.sourceAddress}${o.multicast ? ', join 224.0.0.18' : ''}`);
      return { send: () => {}, close: async () => log(`dry-run: close VRRP socket on ${o.interface}`) };
    },
    async addVips(vips) {
      for (const v of vips) log(`dry-run: ip addr add ${fmt(v)}`);
    },
    async removeVips(vips) {
      for (const v of vips) log(`dry-run: ip addr del ${fmt(v)}`);
    },
    async garp(iface, addresses, count) {
      log(`dry-run: gratuitous ARP ×${count} on ${iface} for ${addresses.join(' ')}`);
    },
    async links() {
      return new Map();
    },
    watchLinks: () => () => {},
    async runScript(command) {
      log(`dry-run: track script not run: ${command}`);
      return true;
    },
    notify(command, args) {
      log(`dry-run: notify ${command} ${args.join(' ')}`);
    },
    async syncDaemons(daemons, config) {
      if (!daemons.length) log('dry-run: ipvsadm --stop-daemon master; ipvsadm --stop-daemon backup');
      for (const d of daemons) log(`dry-run: ipvsadm ${syncDaemonArgs(d, config).join(' ')}`);
    },
    async holdUnsynced(name, addresses, releaseAfterMs, forward) {
      const what = releaseAfterMs === 0 ? 'release' : `hold ${addresses.join(' ')}${releaseAfterMs === null ? '' : ` for ${releaseAfterMs} ms`}`;
      const copies = forward && releaseAfterMs !== 0 ? `, copies to ${forward.address} on ${forward.device}` : '';
      log(`dry-run: nft ${what} (unsynced connections, ${name}${copies})`);
    },
    async lingerVips(name, addresses, releaseAfterMs) {
      if (releaseAfterMs <= 0) return log(`dry-run: ip rule/route del (linger of ${name} ended); nft delete table arp ${lingerArpTable(name)}`);
      log(
        `dry-run: nft drop ARP requests for ${addresses.join(' ')}; ip rule add to each lookup ${LINGER_TABLE} with a local route on lo, for ${releaseAfterMs} ms (${name} lingers)`,
      );
    },
    async close() {},
  };
}
