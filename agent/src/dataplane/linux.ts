import { AgentError } from '../errors.ts';
import { turnOfTheLoop } from '../event-loop.ts';
import { exec as realExec, execOk, type Exec } from './exec.ts';
import { IpvsadmSyntaxError, parseSaveInSteps, renderBatch } from '#shared/ipvs/codec.ts';
import type { IpvsOp, IpvsTable } from '#shared/ipvs/model.ts';
import { parseIpvsStats } from './ipvs-stats.ts';
import { parseProcIpvsInSteps } from './proc-ip-vs.ts';
import { parseDefaultRoutes4, parseDefaultRoutes6 } from './proc-routes.ts';
import { execKernelFiles, hostKernelFiles, sysctlPath, type KernelFiles } from './kernel-files.ts';
import type { Dataplane, HostAddress, HostLink, HostRoute, IpvsServiceStats, IpvsSnapshot } from './types.ts';

export interface LinuxDataplaneOptions {
  /** Drive a host inside a network namespace (`ip netns exec NAME …`). */
  netns?: string;
  timeoutMs?: number;
  exec?: Exec;
  /** Sysctls, /proc/net/ip_vs, default routes and tunl0's flags: opened directly on this host, through `ip netns exec` for a namespace. */
  kernelFiles?: KernelFiles;
}

const NO_IPVS = /Protocol not available|Can't initialize ipvs|Module ip_vs not found/i;

interface IpAddrJson {
  ifname: string;
  flags?: string[];
  /** `ip -d`: the tunnel's parameters. */
  linkinfo?: { info_data?: { local?: string } };
  addr_info?: { family: string; local: string; prefixlen: number; label?: string; scope?: string }[];
}

/** `ipvsadm -Sn` output the codec cannot read is a rejection, like a failed batch. Parsed in steps: a large table is a long run of the event loop. */
async function readSave(text: string): Promise<IpvsTable> {
  try {
    return await parseSaveInSteps(text, turnOfTheLoop);
  } catch (e) {
    if (e instanceof IpvsadmSyntaxError) throw new AgentError('IPVS_REJECTED', `ipvsadm -Sn: ${e.message}`);
    throw e;
  }
}

/**
 * The Linux dataplane: `ip -j` for addresses and links, /proc for default routes and sysctls, `ipvsadm -Sn`
 * plus /proc/net/ip_vs to read IPVS and one `ipvsadm -R` batch to change it (never a flush).
 */
export function createLinuxDataplane(opts: LinuxDataplaneOptions = {}): Dataplane {
  const run = opts.exec ?? realExec;
  const o = { netns: opts.netns, timeoutMs: opts.timeoutMs ?? 10_000 };
  const ip = async (...args: string[]): Promise<string> => execOk(run, 'ip', args, o);
  const ipJson = async <T>(...args: string[]): Promise<T> => JSON.parse((await ip('-j', ...args)) || '[]') as T;
  const files = opts.kernelFiles ?? (opts.netns ? execKernelFiles(run, o) : hostKernelFiles);

  return {
    kind: 'linux',
    async listAddresses(): Promise<HostAddress[]> {
      const links = await ipJson<IpAddrJson[]>('addr', 'show');
      return links.flatMap((l) =>
        (l.addr_info ?? [])
          // Link-local IPv6 addresses are the kernel's own, never a VIP.
          .filter((a) => a.family === 'inet' || (a.family === 'inet6' && a.scope !== 'link'))
          .map((a) => ({
            ifname: l.ifname,
            address: a.local,
            prefix: a.prefixlen,
            label: a.family === 'inet' && a.label && a.label !== l.ifname ? a.label : null,
          })),
      );
    },
    async addAddress(a): Promise<void> {
      await ip('addr', 'add', `${a.address}/${a.prefix}`, 'dev', a.ifname, ...(a.label ? ['label', a.label] : []));
    },
    async deleteAddress(a): Promise<void> {
      await ip('addr', 'del', `${a.address}/${a.prefix}`, 'dev', a.ifname);
    },
    async listLinks(): Promise<HostLink[]> {
      const links = await ipJson<IpAddrJson[]>('link', 'show');
      return links.map((l) => ({ ifname: l.ifname, up: (l.flags ?? []).includes('UP') }));
    },
    async ensureTunnel(device): Promise<void> {
      if (device.ifname === 'tunl0') {
        // Up already (IFF_UP in its sysfs flags): the periodic check's usual case, and no process.
        const flags = await files.read('/sys/class/net/tunl0/flags').catch(() => null);
        if (flags !== null && Number(flags.trim()) & 1) return;
      }
      const links = await ipJson<IpAddrJson[]>('-d', 'link', 'show');
      const found = links.find((l) => l.ifname === device.ifname);
      // lvs6tnl0 there for this address and up: the periodic check changes nothing.
      if (device.ifname !== 'tunl0' && found?.flags?.includes('UP') && found.linkinfo?.info_data?.local === device.local) return;
      if (device.ifname === 'tunl0') {
        if (!found) {
          // Loading ipip creates the fallback device in every namespace; `ip link add … type ipip`
          // loads the module on demand (and then fails with "File exists").
          const r = await run('ip', ['link', 'add', 'name', 'tunl0', 'type', 'ipip'], o);
          if (r.code !== 0 && !/File exists/.test(r.stderr)) throw new AgentError('EXEC_FAILED', `ip link add tunl0 type ipip: ${r.stderr.trim()}`);
        }
      } else if (found?.linkinfo?.info_data?.local !== device.local) {
        // Created, or moved to the node's current address (changelink keeps the VIP on it).
        const params = ['type', 'ip6tnl', 'mode', 'ip6ip6', 'local', device.local, 'remote', 'any', 'allow-localremote'];
        await (found ? ip('link', 'set', 'dev', device.ifname, ...params) : ip('link', 'add', 'name', device.ifname, ...params));
      }
      await ip('link', 'set', device.ifname, 'up');
    },
    async defaultRoutes(): Promise<HostRoute[]> {
      // A host without one family has no file for it: no default route of that family.
      const [v4, v6] = await Promise.all([files.read('/proc/net/route'), files.read('/proc/net/ipv6_route')]);
      return [...parseDefaultRoutes4(v4 ?? ''), ...parseDefaultRoutes6(v6 ?? '')];
    },
    async readSysctl(key): Promise<string | null> {
      return (await files.read(sysctlPath(key)))?.trim() ?? null;
    },
    async writeSysctl(key, value): Promise<void> {
      await files.write(sysctlPath(key), value);
    },
    async ipvsRead(): Promise<IpvsSnapshot> {
      let r;
      try {
        r = await run('ipvsadm', ['-Sn'], o);
      } catch (e) {
        if (e instanceof AgentError && e.code === 'EXEC_NOT_FOUND') throw new AgentError('IPVS_UNAVAILABLE', 'ipvsadm is not installed');
        throw e;
      }
      if (r.code !== 0) {
        const msg = (r.stderr || r.stdout).trim();
        throw new AgentError(NO_IPVS.test(msg) ? 'IPVS_UNAVAILABLE' : 'EXEC_FAILED', `ipvsadm -Sn: ${msg}`);
      }
      const conns = await files.read('/proc/net/ip_vs').catch(() => null);
      return { table: await readSave(r.stdout), activeConns: conns === null ? new Map() : await parseProcIpvsInSteps(conns, turnOfTheLoop) };
    },
    async ipvsStats(): Promise<IpvsServiceStats[] | null> {
      const r = await run('ipvsadm', ['-Ln', '--stats', '--exact'], o).catch((e: unknown) => {
        if (e instanceof AgentError && e.code === 'EXEC_NOT_FOUND') return null;
        throw e;
      });
      if (!r) return null;
      if (r.code !== 0) {
        const msg = (r.stderr || r.stdout).trim();
        if (NO_IPVS.test(msg)) return null;
        throw new AgentError('EXEC_FAILED', `ipvsadm -Ln --stats: ${msg}`);
      }
      return parseIpvsStats(r.stdout);
    },
    async ipvsApply(ops: IpvsOp[]): Promise<void> {
      if (!ops.length) return;
      const input = renderBatch(ops);
      // `ipvsadm -R` reads the batch itself. Not the `ipvsadm-restore` wrapper: Debian's runs
      // `ipvsadm -C` first, which would flush every service before each diff.
      const r = await run('ipvsadm', ['-R'], { ...o, input }).catch((e: unknown) => {
        if (e instanceof AgentError && e.code === 'EXEC_NOT_FOUND') throw new AgentError('IPVS_UNAVAILABLE', 'ipvsadm is not installed');
        throw e;
      });
      if (r.code !== 0) {
        const msg = (r.stderr || r.stdout).trim();
        throw new AgentError(NO_IPVS.test(msg) ? 'IPVS_UNAVAILABLE' : 'IPVS_REJECTED', `ipvsadm -R: ${msg}`);
      }
    },
  };
}
