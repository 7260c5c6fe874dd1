import { AgentError } from '../errors.ts';
import { parseSave, renderBatch } from '#shared/ipvs/codec.ts';
import type { IpvsOp } from '#shared/ipvs/model.ts';
import { MemoryIpvs } from './memory-ipvs.ts';
import type { Dataplane, HostAddress, HostLink, HostRoute, IpvsSnapshot } from './types.ts';

export interface MemoryHostOptions {
  links?: string[];
  /** false models a kernel without ip_vs: reads and writes fail like `ipvsadm` does there. */
  ipvs?: boolean;
  routes?: HostRoute[];
}

const SYSCTL_DEFAULTS: Record<string, string> = { arp_ignore: '0', arp_announce: '0', rp_filter: '2', send_redirects: '1' };

/**
 * A host in memory: addresses, links, routes, sysctls and an IPVS table. It rejects what Linux
 * rejects ("RTNETLINK answers: File exists", "Cannot assign requested address", unknown sysctl).
 */
export class MemoryHost implements Dataplane {
  readonly kind = 'memory' as const;
  readonly ipvs = new MemoryIpvs();
  ipvsAvailable: boolean;
  addresses: HostAddress[] = [];
  links = new Map<string, boolean>();
  routes: HostRoute[];
  sysctls = new Map<string, string>([['net.ipv4.ip_forward', '0']]);
  /** Mutating operations in order, as text; the dry-run dataplane prints these. */
  readonly journal: string[] = [];

  constructor(opts: MemoryHostOptions = {}) {
    this.ipvsAvailable = opts.ipvs ?? true;
    this.routes = opts.routes ?? [];
    for (const l of ['lo', ...(opts.links ?? ['eth0'])]) this.addLink(l);
  }

  addLink(ifname: string): void {
    this.links.set(ifname, true);
    for (const [k, v] of Object.entries(SYSCTL_DEFAULTS)) this.sysctls.set(`net.ipv4.conf.${ifname}.${k}`, v);
    for (const conf of ['all', 'default'])
      for (const [k, v] of Object.entries(SYSCTL_DEFAULTS))
        if (!this.sysctls.has(`net.ipv4.conf.${conf}.${k}`)) this.sysctls.set(`net.ipv4.conf.${conf}.${k}`, v);
  }

  async listAddresses(): Promise<HostAddress[]> {
    return this.addresses.map((a) => ({ ...a }));
  }

  async addAddress(a: HostAddress): Promise<void> {
    if (!this.links.has(a.ifname)) throw new AgentError('HOST_REJECTED', `Cannot find device "${a.ifname}"`);
    if (this.addresses.some((x) => x.ifname === a.ifname && x.address === a.address)) throw new AgentError('HOST_REJECTED', 'RTNETLINK answers: File exists');
    this.journal.push(`ip addr add ${a.address}/${a.prefix} dev ${a.ifname}${a.label ? ` label ${a.label}` : ''}`);
    this.addresses.push({ ...a });
  }

  async deleteAddress(a: HostAddress): Promise<void> {
    const i = this.addresses.findIndex((x) => x.ifname === a.ifname && x.address === a.address);
    if (i < 0) throw new AgentError('HOST_REJECTED', 'RTNETLINK answers: Cannot assign requested address');
    this.journal.push(`ip addr del ${a.address}/${a.prefix} dev ${a.ifname}`);
    this.addresses.splice(i, 1);
  }

  async listLinks(): Promise<HostLink[]> {
    return [...this.links].map(([ifname, up]) => ({ ifname, up }));
  }

  async ensureTunl0(): Promise<void> {
    if (this.links.get('tunl0') === true) return;
    if (!this.links.has('tunl0')) this.addLink('tunl0');
    this.journal.push('ip link set tunl0 up');
    this.links.set('tunl0', true);
  }

  async defaultRoutes(): Promise<HostRoute[]> {
    return this.routes.map((r) => ({ ...r }));
  }

  async readSysctl(key: string): Promise<string | null> {
    return this.sysctls.get(key) ?? null;
  }

  async writeSysctl(key: string, value: string): Promise<void> {
    if (!this.sysctls.has(key)) throw new AgentError('HOST_REJECTED', `sysctl: cannot stat /proc/sys/${key.replaceAll('.', '/')}: No such file or directory`);
    this.journal.push(`sysctl -w ${key}=${value}`);
    this.sysctls.set(key, value);
  }

  async ipvsRead(): Promise<IpvsSnapshot> {
    if (!this.ipvsAvailable) throw new AgentError('IPVS_UNAVAILABLE', "Can't initialize ipvs: Protocol not available");
    return { table: parseSave(this.ipvs.save()), activeConns: new Map(this.ipvs.activeConns) };
  }

  async ipvsApply(ops: IpvsOp[]): Promise<void> {
    if (!this.ipvsAvailable) throw new AgentError('IPVS_UNAVAILABLE', "Can't initialize ipvs: Protocol not available");
    if (!ops.length) return;
    const batch = renderBatch(ops);
    this.journal.push(`ipvsadm -R <<EOF\n${batch}EOF`);
    this.ipvs.restore(batch);
  }
}

/**
 * The dry-run dataplane: a simulated host that starts empty, applies nothing to the real one and
 * prints every command it would run, once (later reads see the simulated result, so an unchanged
 * config prints nothing more).
 */
export function createDryRunDataplane(print: (line: string) => void, opts: MemoryHostOptions = {}): Dataplane {
  const host = new MemoryHost(opts);
  let printed = 0;
  const flush = <T>(v: T): T => {
    for (; printed < host.journal.length; printed++) print(`dry-run: ${host.journal[printed]}`);
    return v;
  };
  const wrap =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> =>
      flush(await f.apply(host, a));
  return {
    kind: 'dry-run',
    listAddresses: wrap(host.listAddresses),
    addAddress: wrap(host.addAddress),
    deleteAddress: wrap(host.deleteAddress),
    listLinks: wrap(host.listLinks),
    ensureTunl0: wrap(host.ensureTunl0),
    defaultRoutes: wrap(host.defaultRoutes),
    readSysctl: wrap(host.readSysctl),
    writeSysctl: wrap(host.writeSysctl),
    ipvsRead: wrap(host.ipvsRead),
    ipvsApply: wrap(host.ipvsApply),
  };
}
