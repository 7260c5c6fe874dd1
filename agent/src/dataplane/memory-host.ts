import { isValidIpv6 } from '#shared/util/ip.ts';
import { AgentError } from '../errors.ts';
import { turnOfTheLoop } from '../event-loop.ts';
import { parseSaveInSteps } from '#shared/ipvs/codec.ts';
import { realServerKey, serviceKey, type IpvsOp } from '#shared/ipvs/model.ts';
import { zeroCounters } from './ipvs-stats.ts';
import { MemoryIpvs } from './memory-ipvs.ts';
import type { Dataplane, HostAddress, HostLink, HostRoute, IpvsCounters, IpvsServiceStats, IpvsSnapshot, TunnelDevice } from './types.ts';

export interface MemoryHostOptions {
  links?: string[];
  /** false models a kernel without ip_vs: reads and writes fail like `ipvsadm` does there. */
  ipvs?: boolean;
  routes?: HostRoute[];
}

const SYSCTL_DEFAULTS: Record<string, string> = { arp_ignore: '0', arp_announce: '0', rp_filter: '2', send_redirects: '1' };
const SYSCTL6_DEFAULTS: Record<string, string> = { disable_ipv6: '0', accept_dad: '1', accept_redirects: '1' };

/**
 * A host in memory: addresses, links, routes, sysctls and an IPVS table. It rejects what Linux
 * rejects ("RTNETLINK answers: File exists", "Cannot assign requested address", unknown sysctl).
 * The tests' kernel, and the simulated host behind the dry-run dataplane (./dry-run.ts).
 */
export class MemoryHost implements Dataplane {
  readonly kind = 'memory' as const;
  readonly ipvs = new MemoryIpvs();
  ipvsAvailable: boolean;
  addresses: HostAddress[] = [];
  links = new Map<string, boolean>();
  /** The local address of each ip6ip6 tunnel device. */
  tunnelLocals = new Map<string, string>();
  routes: HostRoute[];
  sysctls = new Map<string, string>([['net.ipv4.ip_forward', '0']]);
  /**
   * Traffic counters by serviceKey, or realServerKey(serviceKey, dest), set by tests: nothing
   * flows through a table in memory, so every other service and real server reads zero.
   */
  readonly ipvsCounters = new Map<string, IpvsCounters>();

  constructor(opts: MemoryHostOptions = {}) {
    this.ipvsAvailable = opts.ipvs ?? true;
    this.routes = opts.routes ?? [];
    for (const l of ['lo', ...(opts.links ?? ['eth0'])]) this.addLink(l);
  }

  addLink(ifname: string): void {
    this.links.set(ifname, true);
    for (const [k, v] of Object.entries(SYSCTL_DEFAULTS)) this.sysctls.set(`net.ipv4.conf.${ifname}.${k}`, v);
    for (const [k, v] of Object.entries(SYSCTL6_DEFAULTS)) this.sysctls.set(`net.ipv6.conf.${ifname}.${k}`, v);
    for (const conf of ['all', 'default']) {
      for (const [k, v] of Object.entries(SYSCTL_DEFAULTS))
        if (!this.sysctls.has(`net.ipv4.conf.${conf}.${k}`)) this.sysctls.set(`net.ipv4.conf.${conf}.${k}`, v);
      for (const [k, v] of Object.entries(SYSCTL6_DEFAULTS))
        if (!this.sysctls.has(`net.ipv6.conf.${conf}.${k}`)) this.sysctls.set(`net.ipv6.conf.${conf}.${k}`, v);
    }
  }

  async listAddresses(): Promise<HostAddress[]> {
    return this.addresses.map((a) => ({ ...a }));
  }

  async addAddress(a: HostAddress): Promise<void> {
    if (!this.links.has(a.ifname)) throw new AgentError('HOST_REJECTED', `Cannot find device "${a.ifname}"`);
    if (this.addresses.some((x) => x.ifname === a.ifname && x.address === a.address)) throw new AgentError('HOST_REJECTED', 'RTNETLINK answers: File exists');
    // Linux takes `label` on an IPv6 address and keeps none (IFA_LABEL is IPv4 only).
    this.addresses.push({ ...a, label: isValidIpv6(a.address) ? null : a.label });
  }

  async deleteAddress(a: HostAddress): Promise<void> {
    const i = this.addresses.findIndex((x) => x.ifname === a.ifname && x.address === a.address);
    if (i < 0) throw new AgentError('HOST_REJECTED', 'RTNETLINK answers: Cannot assign requested address');
    this.addresses.splice(i, 1);
  }

  async listLinks(): Promise<HostLink[]> {
    return [...this.links].map(([ifname, up]) => ({ ifname, up }));
  }

  async ensureTunnel(device: TunnelDevice): Promise<void> {
    if ('local' in device) this.tunnelLocals.set(device.ifname, device.local);
    if (this.links.get(device.ifname) === true) return;
    if (!this.links.has(device.ifname)) this.addLink(device.ifname);
    this.links.set(device.ifname, true);
  }

  async defaultRoutes(): Promise<HostRoute[]> {
    return this.routes.map((r) => ({ ...r }));
  }

  async readSysctl(key: string): Promise<string | null> {
    return this.sysctls.get(key) ?? null;
  }

  async writeSysctl(key: string, value: string): Promise<void> {
    if (!this.sysctls.has(key)) throw new AgentError('HOST_REJECTED', `sysctl: cannot stat /proc/sys/${key.replaceAll('.', '/')}: No such file or directory`);
    this.sysctls.set(key, value);
  }

  async ipvsRead(): Promise<IpvsSnapshot> {
    if (!this.ipvsAvailable) throw new AgentError('IPVS_UNAVAILABLE', "Can't initialize ipvs: Protocol not available");
    // Read as from the kernel, as the Linux host reads it: `-Sn` text, parsed in steps.
    const activeConns = new Map(this.ipvs.activeConns);
    return { table: await parseSaveInSteps(this.ipvs.save(), turnOfTheLoop), activeConns };
  }

  async ipvsStats(): Promise<IpvsServiceStats[] | null> {
    if (!this.ipvsAvailable) return null;
    return this.ipvs.snapshot().map((s) => {
      const key = serviceKey(s);
      return {
        protocol: s.protocol,
        address: s.address,
        port: s.port,
        fwmark: s.fwmark,
        ...(this.ipvsCounters.get(key) ?? zeroCounters()),
        dests: s.dests.map((d) => ({ address: d.address, port: d.port, ...(this.ipvsCounters.get(realServerKey(key, d)) ?? zeroCounters()) })),
      };
    });
  }

  async ipvsApply(ops: IpvsOp[]): Promise<void> {
    this.ipvsApplyText(ops);
  }

  /** ipvsApply, answering the batch's `ipvsadm -R` text ('' for no operations): what the dry run prints. */
  ipvsApplyText(ops: IpvsOp[]): string {
    if (!this.ipvsAvailable) throw new AgentError('IPVS_UNAVAILABLE', "Can't initialize ipvs: Protocol not available");
    return ops.length ? this.ipvs.apply(ops) : '';
  }
}
