import { MemoryHost, type MemoryHostOptions } from './memory-host.ts';
import type { Dataplane } from './types.ts';

/**
 * The dry-run dataplane (`--dataplane dry-run`): changes nothing on the real host and prints
 * each command the Linux dataplane would run, as `dry-run: COMMAND`. Changes land on a
 * simulated host that starts empty, so later reads see them and an unchanged config prints
 * nothing more; a change that host refuses (as Linux would) throws and prints nothing.
 */
export function createDryRunDataplane(print: (line: string) => void, opts: MemoryHostOptions = {}): Dataplane {
  const host = new MemoryHost(opts);
  const say = (command: string): void => print(`dry-run: ${command}`);
  return {
    kind: 'dry-run',
    listAddresses: () => host.listAddresses(),
    listLinks: () => host.listLinks(),
    defaultRoutes: () => host.defaultRoutes(),
    readSysctl: (key) => host.readSysctl(key),
    ipvsRead: () => host.ipvsRead(),
    // The simulated table carries no traffic: every counter reads zero.
    ipvsStats: () => host.ipvsStats(),
    async addAddress(a) {
      await host.addAddress(a);
      say(`ip addr add ${a.address}/${a.prefix} dev ${a.ifname}${a.label ? ` label ${a.label}` : ''}`);
    },
    async deleteAddress(a) {
      await host.deleteAddress(a);
      say(`ip addr del ${a.address}/${a.prefix} dev ${a.ifname}`);
    },
    async ensureTunnel(device) {
      const existed = host.links.has(device.ifname);
      const wasUp = host.links.get(device.ifname) === true;
      const local = host.tunnelLocals.get(device.ifname);
      await host.ensureTunnel(device);
      if ('local' in device && local !== device.local)
        say(`ip link ${existed ? 'set dev' : 'add name'} ${device.ifname} type ip6tnl mode ip6ip6 local ${device.local} remote any allow-localremote`);
      if (!wasUp) say(`ip link set ${device.ifname} up`);
    },
    async writeSysctl(key, value) {
      await host.writeSysctl(key, value);
      say(`sysctl -w ${key}=${value}`);
    },
    async ipvsApply(ops) {
      const text = host.ipvsApplyText(ops);
      if (text) say(`ipvsadm -R <<EOF\n${text}EOF`);
    },
  };
}
