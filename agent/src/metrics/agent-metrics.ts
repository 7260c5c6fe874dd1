import { Counter, Gauge, Histogram, Registry, type MetricType } from 'prom-client';
import type { ResolvedVip } from '#shared/config/node-config.ts';
import type { NodeStatus, VrrpState } from '#shared/wire/status.ts';
import type { IpvsCounters, IpvsServiceStats } from '../dataplane/types.ts';
import type { VrrpInstanceStats } from '../vrrp/driver.ts';
import type { VrrpStat } from '../vrrp/instance.ts';

/** Everything one scrape shows, read from the running agent at scrape time. Plain data. */
export interface AgentSnapshot {
  status: NodeStatus;
  /** null when no VRRP engine runs (not a director, or its start failed). */
  vrrp: { instances: VrrpInstanceStats[]; scripts: { name: string; ok: boolean }[] } | null;
  /** null on a host without IPVS. */
  ipvs: IpvsServiceStats[] | null;
}

/**
 * keepalived's VRRP states as mehdy/keepalived-exporter numbers them (0 INIT, 1 BACKUP, 2 MASTER,
 * 3 FAULT). STOP is ours, for an instance being shut down: it has no number there, and no series.
 */
const STATE_VALUE: Record<VrrpState, number | null> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, STOP: null };

/** mehdy/keepalived-exporter's per-instance counters: name, HELP and keepalived statistic. */
const VRRP_COUNTERS: [name: string, help: string, stat: VrrpStat][] = [
  ['keepalived_advertisements_received_total', 'Advertisements received', 'advert_rcvd'],
  ['keepalived_advertisements_sent_total', 'Advertisements sent', 'advert_sent'],
  ['keepalived_become_master_total', 'Became master', 'become_master'],
  ['keepalived_release_master_total', 'Released master', 'release_master'],
  ['keepalived_packet_length_errors_total', 'Packet length errors', 'packet_len_err'],
  ['keepalived_advertisements_interval_errors_total', 'Advertisement interval errors', 'advert_interval_err'],
  ['keepalived_ip_ttl_errors_total', 'TTL errors', 'ip_ttl_err'],
  ['keepalived_invalid_type_received_total', 'Invalid type errors', 'invalid_type_rcvd'],
  ['keepalived_address_list_errors_total', 'Address list errors', 'addr_list_err'],
  ['keepalived_authentication_invalid_total', 'Authentication invalid', 'invalid_authtype'],
  ['keepalived_authentication_mismatch_total', 'Authentication mismatch', 'authtype_mismatch'],
  ['keepalived_authentication_failure_total', 'Authentication failure', 'auth_failure'],
  ['keepalived_priority_zero_received_total', 'Priority zero received', 'pri_zero_rcvd'],
  ['keepalived_priority_zero_sent_total', 'Priority zero sent', 'pri_zero_sent'],
];

/** gen2brain/keepalived_exporter's LVS series: suffix, HELP noun, counter. */
const LVS_COUNTERS: [suffix: string, help: string, key: keyof IpvsCounters][] = [
  ['in_packets', 'in packets', 'inPackets'],
  ['out_packets', 'out packets', 'outPackets'],
  ['in_bytes', 'in bytes', 'inBytes'],
  ['out_bytes', 'out bytes', 'outBytes'],
  ['conn', 'connections', 'conns'],
];

const IPPROTO: Record<IpvsServiceStats['protocol'], string> = { tcp: '6', udp: '17', sctp: '132' };

/**
 * gen2brain declares its LVS series counters, but their names lack `_total`, which
 * `promtool check metrics` rejects. They go out untyped: same names, labels and values, and
 * PromQL (rate, increase) treats them the same.
 */
class Untyped<T extends string> extends Gauge<T> {
  override async get() {
    return { ...(await super.get()), type: 'untyped' as unknown as MetricType };
  }
}

/** keepalived's VIP text (`10.0.0.1 dev eth0`, `/N` only when not a host address): the exporter's ip_address. */
const vipText = (v: ResolvedVip) => (v.prefix === 32 ? v.address : `${v.address}/${v.prefix}`);

/** IPv6 addresses without brackets, as Go's net.IP.String() + ":" + port gives them. */
const hostPort = (address: string, port: number) => `${address}:${port}`;

/**
 * The agent's Prometheus metrics in their own registry (the cloud has another): keepalived's
 * VRRP series under mehdy/keepalived-exporter's names, the LVS side under
 * gen2brain/keepalived_exporter's, and the agent's own. Dashboards and alert rules written for
 * those exporters keep working when keepalived is replaced by the agent.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly up = this.gauge('keepalived_up', 'Status', []);
  private readonly state = this.gauge('keepalived_vrrp_state', 'State of vrrp', ['iname', 'intf', 'vrid', 'ip_address']);
  private readonly excludedState = this.gauge('keepalived_vrrp_excluded_state', 'State of vrrp with excluded VIP', ['iname', 'intf', 'vrid', 'ip_address']);
  private readonly garpDelay = this.counter('keepalived_gratuitous_arp_delay_total', 'Gratuitous ARP delay', ['iname', 'intf', 'vrid']);
  private readonly vrrpCounters = VRRP_COUNTERS.map(([name, help, stat]) => ({ stat, c: this.counter(name, help, ['iname', 'intf', 'vrid']) }));
  private readonly scriptStatus = this.gauge('keepalived_script_status', 'Tracker Script Status', ['name']);
  // Absent, not zero, where the host has no IPVS: there is nothing to count there.
  private readonly lvsVip = LVS_COUNTERS.map(([suffix, help, key]) => ({
    key,
    g: this.untyped(`keepalived_lvs_vip_${suffix}`, `VIP ${help}`, ['addr', 'proto']),
  }));
  private readonly lvsRs = LVS_COUNTERS.map(([suffix, help, key]) => ({
    key,
    g: this.untyped(`keepalived_lvs_rs_${suffix}`, `RS ${help}`, ['vip', 'addr', 'proto']),
  }));
  private readonly applied = this.gauge('lvsfleet_agent_applied_revision', 'Newest configuration revision every part of the agent converged to', []);
  private readonly desired = this.gauge(
    'lvsfleet_agent_desired_revision',
    'Newest configuration revision the agent was given (above applied while an apply is pending or failed)',
    [],
  );
  private readonly realServerUp = this.gauge('lvsfleet_realserver_up', 'Health of a real server as its checks see it (1 up, 0 down)', [
    'service',
    'address',
    'port',
  ]);
  /** Observed as probes finish, not at scrape time. */
  readonly checkDuration = new Histogram({
    name: 'lvsfleet_check_duration_seconds',
    help: 'Duration of one health-check attempt, by check type',
    labelNames: ['type'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private gauge<T extends string>(name: string, help: string, labelNames: T[]) {
    return new Gauge<T>({ name, help, labelNames, registers: [this.registry] });
  }

  private counter<T extends string>(name: string, help: string, labelNames: T[]) {
    return new Counter<T>({ name, help, labelNames, registers: [this.registry] });
  }

  private untyped<T extends string>(name: string, help: string, labelNames: T[]) {
    return new Untyped<T>({ name, help, labelNames, registers: [this.registry] });
  }

  /** Replaces every scrape-time series with what `s` shows (the histogram keeps its observations). */
  load(s: AgentSnapshot): void {
    for (const m of [this.up, this.state, this.excludedState, this.garpDelay, this.scriptStatus, this.applied, this.desired, this.realServerUp]) m.reset();
    for (const { c } of this.vrrpCounters) c.reset();
    for (const { g } of [...this.lvsVip, ...this.lvsRs]) g.reset();

    const { status } = s;
    if (status.appliedRevision != null) this.applied.set(status.appliedRevision);
    const desired = status.pendingRevision ?? status.appliedRevision;
    if (desired != null) this.desired.set(desired);
    for (const svc of status.services ?? [])
      for (const rs of svc.realServers) this.realServerUp.set({ service: svc.name, address: rs.address, port: String(rs.port) }, rs.healthy ? 1 : 0);

    // keepalived_up: the VRRP engine runs (the exporter's "keepalived answered"). Like the
    // exporter, nothing else of keepalived's is shown while it is 0.
    const vrrpFailed = status.errors?.some((e) => e.startsWith('vrrp:')) ?? false;
    this.up.set(s.vrrp && !vrrpFailed ? 1 : 0);
    if (s.vrrp && !vrrpFailed) this.loadVrrp(s.vrrp);
    if (s.ipvs) this.loadIpvs(s.ipvs);
  }

  private loadVrrp(v: NonNullable<AgentSnapshot['vrrp']>): void {
    for (const i of v.instances) {
      const common = { iname: i.instance, intf: i.interface, vrid: String(i.vrid) };
      for (const { stat, c } of this.vrrpCounters) c.inc(common, i.counters[stat]);
      // keepalived's data file prints garp_master_delay in whole seconds.
      this.garpDelay.inc(common, Math.floor(i.garpDelayMs / 1000));
      const value = STATE_VALUE[i.state];
      if (value === null) continue;
      // One series per VIP, labelled with the VIP's own interface (`dev` in keepalived's dump).
      for (const vip of i.vips) this.state.set({ ...common, intf: vip.interface, ip_address: vipText(vip) }, value);
      for (const vip of i.excludedVips) this.excludedState.set({ ...common, intf: vip.interface, ip_address: vipText(vip) }, value);
      if (!i.vips.length) this.state.set({ ...common, ip_address: '' }, value);
    }
    // 0 BAD, 1 GOOD, keepalived's script status.
    for (const sc of v.scripts) this.scriptStatus.set({ name: sc.name }, sc.ok ? 1 : 0);
  }

  private loadIpvs(services: IpvsServiceStats[]): void {
    for (const svc of services) {
      // gen2brain labels a service "VIP:port" and its IP protocol number. An fwmark service has
      // neither (the exporter would print 0.0.0.0:0 for each, colliding): it is `fwmark:N`, proto 0.
      const vip = svc.fwmark > 0 ? `fwmark:${svc.fwmark}` : hostPort(svc.address ?? '', svc.port);
      const proto = svc.fwmark > 0 ? '0' : IPPROTO[svc.protocol];
      for (const { key, g } of this.lvsVip) g.set({ addr: vip, proto }, svc[key]);
      for (const d of svc.dests) for (const { key, g } of this.lvsRs) g.set({ vip, addr: hostPort(d.address, d.port), proto }, d[key]);
    }
  }

  /** The exposition (Prometheus text format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
