import * as z from 'zod';
import type { RealServerVip } from '#shared/config/node-config.ts';
import type { Dataplane, HostAddress } from '../dataplane/types.ts';
import { errorText } from '../errors.ts';
import { StateFile } from '../state/state-file.ts';
import { realServerPlan, type RealServerPlan } from './plan.ts';
import { convergeSysctls, type SavedSysctls } from './sysctl-keeper.ts';

interface RoleState {
  saved: SavedSysctls;
  /** Addresses this role added, so it removes only those. */
  addresses: HostAddress[];
}

const RoleStateSchema = z.object({
  saved: z.record(z.string(), z.string()),
  addresses: z.array(z.object({ ifname: z.string(), address: z.string(), prefix: z.number().int(), label: z.string().nullable() })),
});

export interface RoleResult {
  ok: boolean;
  drift: string[];
  warnings: string[];
  error?: string;
}

const same = (a: HostAddress, b: HostAddress) => a.ifname === b.ifname && a.address === b.address;

/**
 * The real-server role's shell: converges VIPs and sysctls to the plan, removes what it set up
 * when a VIP leaves the config (restoring previous sysctls), reports drift and repairs it, and
 * checks NAT default routes. Run it on every apply and periodically.
 */
export class RealServerRole {
  private state: RoleState | null = null;
  private readonly file: StateFile<RoleState>;

  constructor(
    private readonly dp: Dataplane,
    statePath: string,
    private readonly log: (line: string) => void,
  ) {
    // Not fsynced: it lists VIPs and sysctl values, which a host crash resets with it (after one, the
    // boot's sysctl values are the ones to keep, and none of the VIPs is up). Two of a real
    // server's four fsyncs per apply.
    this.file = new StateFile(statePath, { schema: RoleStateSchema, log, durable: false });
  }

  private async load(): Promise<RoleState> {
    if (!this.state) {
      // Corrupt: StateFile logs it and it reads as empty (no saved sysctl values to restore).
      this.state = await this.file.read({ saved: {}, addresses: [] }).catch((e) => {
        this.log(`realserver state unreadable (${errorText(e)}); starting without saved sysctl values`);
        return { saved: {}, addresses: [] };
      });
    }
    return this.state;
  }

  /**
   * `sysctls` are the compiler's realServer.sysctls; they win over the role's own defaults.
   * `iface` is the node's interface (NodeConfig node.interface), where IPv6 NAT stops redirects;
   * `address6` its IPv6 address, the local end of the ip6ip6 device for IPv6 TUN VIPs.
   */
  async converge(vips: RealServerVip[], sysctls: Record<string, string> = {}, iface = 'eth0', address6: string | null = null): Promise<RoleResult> {
    const result: RoleResult = { ok: true, drift: [], warnings: [] };
    let plan: RealServerPlan;
    try {
      plan = realServerPlan(vips, iface, address6);
    } catch (e) {
      return { ...result, ok: false, error: errorText(e) };
    }
    const state = await this.load();
    plan.sysctls = { ...plan.sysctls, ...sysctls };
    try {
      for (const t of plan.tunnels) await this.dp.ensureTunnel(t);
      const present = await this.dp.listAddresses();
      for (const a of plan.addresses) {
        if (present.some((p) => same(p, a))) {
          if (!state.addresses.some((s) => same(s, a))) state.addresses.push(a); // adopted after a restart
          continue;
        }
        if (state.addresses.some((s) => same(s, a))) result.drift.push(`VIP ${a.address}/${a.prefix} missing from ${a.ifname}`);
        await this.dp.addAddress(a);
        if (!state.addresses.some((s) => same(s, a))) state.addresses.push(a);
        this.log(`realserver added ${a.address}/${a.prefix} on ${a.ifname}`);
      }
      for (const a of [...state.addresses]) {
        if (plan.addresses.some((p) => same(p, a))) continue;
        if (present.some((p) => same(p, a))) await this.dp.deleteAddress(a);
        state.addresses = state.addresses.filter((s) => !same(s, a));
        this.log(`realserver removed ${a.address}/${a.prefix} from ${a.ifname}`);
      }
      const s = await convergeSysctls(this.dp, plan.sysctls, state.saved);
      state.saved = s.saved;
      result.drift.push(...s.drift.map((d) => `sysctl ${d}`));
      for (const k of s.restored) this.log(`realserver restored ${k}`);
      if (plan.natChecks.length) {
        const gateways = (await this.dp.defaultRoutes()).map((r) => r.gateway).filter((g): g is string => g !== null);
        for (const c of plan.natChecks) {
          if (c.expectedGateways.length && !gateways.some((g) => c.expectedGateways.includes(g))) {
            result.warnings.push(`NAT VIP ${c.vip}: default route via ${gateways.join(', ') || 'nothing'}, expected one of ${c.expectedGateways.join(', ')}`);
          }
        }
      }
    } catch (e) {
      result.ok = false;
      result.error = errorText(e);
    }
    try {
      await this.file.write(state);
    } catch (e) {
      // The host is converged but what to undo later is not on disk: a failure, retried next pass.
      result.ok = false;
      result.error = result.error ? `${result.error}; ${errorText(e)}` : errorText(e);
    }
    return result;
  }
}
