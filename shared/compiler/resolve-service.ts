import type { ResolvedCheck, ResolvedService } from '../config/node-config.ts';
import { DEFAULTS, checkDefaults } from '../site/defaults.ts';
import type { HealthCheck } from '../site/health-check.ts';
import type { Service } from '../site/service.ts';
import { familyOf, realServerAddress, serviceVips } from '../site/family.ts';
import type { Node } from '../site/site.ts';
import { durationMs } from '../util/duration.ts';

// Keys in code-unit order (./key-order.ts says why).
const ms = (d: string | undefined, dflt: number): number => (d === undefined ? dflt : durationMs(d));

/** Resolves a check against its real server: keepalived's defaults, connect_ip/connect_port, type params. */
function resolveCheck(hc: HealthCheck, address: string, port: number): ResolvedCheck {
  const c = DEFAULTS.check;
  const { type, interval, timeout, retries, retryDelay, warmup, port: cport, address: caddr, bindTo, ...rest } = hc;
  const params: Record<string, unknown> = { ...rest };
  if (type === 'http' || type === 'https') {
    const h = hc as Extract<HealthCheck, { type: 'http' | 'https' }>;
    params.urls = h.urls ?? [{ path: h.path ?? c.httpPath, ...(h.digest ? { digest: h.digest } : {}), expectStatus: h.expectStatus ?? c.httpExpectStatus }];
    params.urls = (params.urls as { path: string; digest?: string; expectStatus?: unknown[] }[]).map((u) => ({
      ...u,
      expectStatus: u.expectStatus ?? c.httpExpectStatus,
    }));
    delete params.path;
    delete params.digest;
    delete params.expectStatus;
  }
  if (type === 'dns') {
    params.queryType = (hc as Extract<HealthCheck, { type: 'dns' }>).queryType ?? c.dnsQueryType;
    params.name = (hc as Extract<HealthCheck, { type: 'dns' }>).name ?? c.dnsName;
  }
  const intervalMs = ms(interval, c.intervalMs);
  const byType = checkDefaults(type, intervalMs);
  return {
    address: caddr ?? address,
    bindTo: bindTo ?? null,
    intervalMs,
    params,
    port: cport ?? port,
    retries: retries ?? byType.retries,
    retryDelayMs: ms(retryDelay, byType.retryDelayMs),
    timeoutMs: ms(timeout, c.timeoutMs),
    type,
    warmupMs: ms(warmup, byType.warmupMs),
  };
}

/**
 * One IPVS service per VIP (keepalived: one virtual_server per address): a service of one VIP or
 * fwmark gives one entry, a dual-stack service two of the same name, IPv4 first, each with the
 * real servers and sorry server of its family.
 */
export function resolveServices(svc: Service, nodes: ReadonlyMap<string, Node>): ResolvedService[] {
  const vips = serviceVips(svc);
  if (!vips.length) return [resolveService(svc, nodes, null, svc.family ?? 4, false)];
  const ordered = [...vips].sort((a, b) => familyOf(a) - familyOf(b));
  return ordered.map((vip) => resolveService(svc, nodes, vip, familyOf(vip), vips.length > 1));
}

function resolveService(svc: Service, nodes: ReadonlyMap<string, Node>, vip: string | null, family: 4 | 6, dualStack: boolean): ResolvedService {
  const d = DEFAULTS.service;
  const port = svc.port ?? 0;
  const sorry = svc.sorryServer && (!dualStack || familyOf(svc.sorryServer.address) === family) ? svc.sorryServer : undefined;
  const realServers = svc.realServers.flatMap((rs) => {
    const address = realServerAddress(rs, nodes, family, dualStack);
    return address === null ? [] : [{ rs, address }];
  });
  return {
    alpha: svc.alpha ?? false,
    ...(family === 6 ? { family: 6 as const } : {}),
    fwmark: svc.fwmark ?? 0,
    hysteresis: svc.hysteresis ?? d.hysteresis,
    name: svc.name,
    omega: svc.omega ?? false,
    onePacket: svc.onePacket ?? false,
    persistence: svc.persistence
      ? {
          netmask: svc.persistence.netmask ?? DEFAULTS.persistenceNetmask,
          timeoutS: svc.persistence.timeout === undefined ? DEFAULTS.persistenceTimeoutS : durationMs(svc.persistence.timeout) / 1000,
        }
      : null,
    port,
    protocol: svc.protocol ?? d.protocol,
    quorum: svc.quorum ?? d.quorum,
    quorumDown: svc.quorumDown ?? null,
    quorumUp: svc.quorumUp ?? null,
    realServers: realServers.map(({ rs, address }) => {
      const rsPort = rs.port ?? port;
      const hc = rs.healthCheck ?? svc.healthCheck;
      return {
        address,
        forwarding: rs.forwarding ?? svc.forwarding ?? d.forwarding,
        healthCheck: hc ? resolveCheck(hc, address, rsPort) : null,
        inhibitOnFailure: rs.inhibitOnFailure ?? svc.inhibitOnFailure ?? false,
        lowerThreshold: rs.lowerThreshold ?? 0,
        node: rs.node ?? null,
        notifyDown: rs.notifyDown ?? null,
        notifyUp: rs.notifyUp ?? null,
        port: rsPort,
        upperThreshold: rs.upperThreshold ?? 0,
        weight: rs.weight ?? DEFAULTS.realServerWeight,
      };
    }),
    scheduler: svc.scheduler ?? d.scheduler,
    schedulerFlags: [...(svc.schedulerFlags ?? [])].sort(),
    sorryServer: sorry
      ? {
          address: sorry.address,
          forwarding: sorry.forwarding ?? svc.forwarding ?? d.forwarding,
          inhibit: sorry.inhibit ?? false,
          port: sorry.port ?? port,
        }
      : null,
    vip,
  };
}
