/**
 * The IPVS table a director should have: pure, from its compiled config (NodeConfig.services)
 * and the health and quorum state. The agent programs exactly this; `export ipvsadm` prints it
 * with every real server up and quorum met.
 */
import type { ResolvedService } from '../config/node-config.ts';
import type { IpvsDest, IpvsService, IpvsServiceState, IpvsTable } from './model.ts';
import { destKey, realServerKey, serviceKey } from './model.ts';

/** Health of one real server as the checkers see it (keyed by realServerKey(service name, rs)); weight = misc_dynamic weight or null. */
export interface RealServerHealth {
  up: boolean;
  weight: number | null;
}

/** The IPVS service a resolved service maps to (ipvsadm -A arguments). */
function ipvsServiceOf(s: ResolvedService): IpvsService {
  return {
    protocol: s.fwmark > 0 ? 'tcp' : s.protocol,
    address: s.fwmark > 0 ? null : s.vip,
    port: s.fwmark > 0 ? 0 : s.port,
    fwmark: s.fwmark,
    ...(s.family === 6 ? { family: 6 as const } : {}),
    scheduler: s.scheduler,
    flags: [...s.schedulerFlags].sort(),
    // An IPv6 service persists per client address: ipvsadm's netmask for it is the prefix length 128.
    persistence: s.persistence ? { timeoutS: s.persistence.timeoutS, netmask: s.family === 6 ? '128' : s.persistence.netmask } : null,
    onePacket: s.onePacket,
  };
}

/** DR and TUN cannot map ports: the kernel uses the service port (0 for fwmark services). */
function destPort(svc: IpvsService, forwarding: IpvsDest['forwarding'], port: number): number {
  return forwarding === 'nat' ? port : svc.port;
}

/**
 * Each configured service's IPVS form and key, made once per service object: a status asks for
 * every real server's active connections, 10,000 on a large director, and building the service
 * and its key for each was most of the status's time. Configs are never changed in place (an
 * override layers a new one), so an object's key stays its key.
 */
const kernelServices = new WeakMap<ResolvedService, { svc: IpvsService; key: string }>();

/**
 * Each real server object's kernel key, with what it was made from beside its own fields: its
 * service's key and port. A changed service is a new object whose unchanged real servers are the
 * objects of before (checkClaimsInSteps), so their keys carry over.
 */
const kernelKeys = new WeakMap<object, { service: string; port: number; key: string }>();

/** realServerKey(serviceKey, dest) of a configured real server: how the kernel state (active connections) names it. */
export function kernelRealServerKey(s: ResolvedService, rs: Pick<ResolvedService['realServers'][number], 'address' | 'port' | 'forwarding'>): string {
  let k = kernelServices.get(s);
  if (!k) {
    const svc = ipvsServiceOf(s);
    k = { svc, key: serviceKey(svc) };
    kernelServices.set(s, k);
  }
  const known = kernelKeys.get(rs);
  if (known?.service === k.key && known.port === k.svc.port) return known.key;
  const key = realServerKey(k.key, { address: rs.address, port: destPort(k.svc, rs.forwarding, rs.port) });
  kernelKeys.set(rs, { service: k.key, port: k.svc.port, key });
  return key;
}

/** Each real server object's health key, with the service name it was made for. */
const healthKeys = new WeakMap<object, { service: string; key: string }>();

/**
 * realServerKey(service name, rs): how the health checker names a configured real server, kept per
 * real server object (configs are never changed in place, and an unchanged real server comes back
 * as the same object from one revision to the next: checkClaimsInSteps). A director looks its
 * 1,000 real servers up three times a pass (quorum, the desired table, the status): a key made anew
 * each time was a new string hashed anew.
 */
export function healthKey(service: string, rs: Pick<ResolvedService['realServers'][number], 'address' | 'port'>): string {
  const k = healthKeys.get(rs);
  if (k?.service === service) return k.key;
  const key = realServerKey(service, rs);
  healthKeys.set(rs, { service, key });
  return key;
}

/** Healthy weight sum of a service, as keepalived counts it for quorum. */
export function aliveWeight(s: ResolvedService, health: (key: string) => RealServerHealth): number {
  return s.realServers.reduce((sum, rs) => {
    const h = health(healthKey(s.name, rs));
    return h.up ? sum + (h.weight ?? rs.weight) : sum;
  }, 0);
}

/**
 * The IPVS table a director should have, given health and quorum state (keepalived semantics):
 * a healthy server at its (dynamic) weight; a failed one removed, or at weight 0 with
 * inhibit_on_failure; with quorum lost every server leaves (inhibited ones stay at 0) and the
 * sorry server comes in at weight 1; with quorum up the sorry server is out, or at weight 0 with
 * sorry_server_inhibit.
 */
export function desiredIpvs(services: ResolvedService[], health: (key: string) => RealServerHealth, quorumUp: (service: string) => boolean): IpvsTable {
  return services.map((s): IpvsServiceState => {
    const svc = ipvsServiceOf(s);
    const qUp = quorumUp(s.name);
    const dests = new Map<string, IpvsDest>();
    for (const rs of s.realServers) {
      const h = health(healthKey(s.name, rs));
      const inService = qUp && h.up;
      if (!inService && !rs.inhibitOnFailure) continue;
      const d: IpvsDest = {
        address: rs.address,
        port: destPort(svc, rs.forwarding, rs.port),
        forwarding: rs.forwarding,
        weight: inService ? Math.min(65535, Math.max(0, h.weight ?? rs.weight)) : 0,
        upperThreshold: rs.upperThreshold,
        lowerThreshold: rs.lowerThreshold,
      };
      if (!dests.has(destKey(d))) dests.set(destKey(d), d);
    }
    const sorry = s.sorryServer;
    if (sorry && (!qUp || sorry.inhibit)) {
      const d: IpvsDest = {
        address: sorry.address,
        port: destPort(svc, sorry.forwarding, sorry.port),
        forwarding: sorry.forwarding,
        weight: qUp ? 0 : 1,
        upperThreshold: 0,
        lowerThreshold: 0,
      };
      if (!dests.has(destKey(d))) dests.set(destKey(d), d);
    }
    return { ...svc, dests: [...dests.values()] };
  });
}

/** Every realServerKey(serviceKey, dest) the config knows (real servers and sorry servers). */
export function configuredDestKeys(services: ResolvedService[]): Set<string> {
  const out = new Set<string>();
  for (const s of services) for (const d of [...s.realServers, ...(s.sorryServer ? [s.sorryServer] : [])]) out.add(kernelRealServerKey(s, d));
  return out;
}

/** Every real server up at its configured weight, quorum met: the table in the steady state. */
export function steadyIpvs(services: ResolvedService[]): IpvsTable {
  return desiredIpvs(
    services,
    () => ({ up: true, weight: null }),
    () => true,
  );
}
