import { durationMs } from '../util/duration.ts';
import { formatHostPort, maskToPrefix } from '../util/ip.ts';
import { DEFAULTS } from './defaults.ts';
import { uniqueNames, type SpecIssue } from './issues.ts';
import type { HealthCheck } from './health-check.ts';
import type { Node, Site } from './site.ts';
import { checkServiceFamily, servedKeys } from './semantic-family.ts';

function checkHealth(hc: HealthCheck | undefined, path: string, out: SpecIssue[]): void {
  if (!hc) return;
  if (hc.interval !== undefined && durationMs(hc.interval) < 10) out.push({ path: `${path}.interval`, message: 'interval is at least 10ms' });
  if (hc.timeout !== undefined && durationMs(hc.timeout) < 1) out.push({ path: `${path}.timeout`, message: 'timeout must be positive' });
  if ((hc.type === 'http' || hc.type === 'https') && hc.urls && (hc.path || hc.digest || hc.expectStatus))
    out.push({ path: `${path}.urls`, message: 'use either urls or path/digest/expectStatus, not both' });
  if (hc.type === 'udp' && hc.minReplyLength !== undefined && hc.maxReplyLength !== undefined && hc.minReplyLength > hc.maxReplyLength)
    out.push({ path: `${path}.minReplyLength`, message: 'minReplyLength must not exceed maxReplyLength' });
  if (hc.type === 'https' && hc.sni === true && !hc.virtualhost)
    out.push({ path: `${path}.sni`, message: 'sni: true sends the virtualhost; set virtualhost or give the name' });
  if (hc.type !== 'http' && hc.type !== 'https') return;
  const lists: [string, (number | string)[] | undefined][] = [
    [`${path}.expectStatus`, hc.expectStatus],
    ...(hc.urls ?? []).map((u, k): [string, (number | string)[] | undefined] => [`${path}.urls[${k}].expectStatus`, u.expectStatus]),
  ];
  for (const [base, list] of lists)
    (list ?? []).forEach((code, k) => {
      if (typeof code === 'string') {
        const [lo, hi] = code.split('-').map(Number);
        if (lo > hi) out.push({ path: `${base}[${k}]`, message: `range ${code} is empty` });
      }
    });
}

/** The way out of a port mapping DR/TUN cannot do; a service without a port has none to name. */
const usePort = (port: number | undefined) => (port === undefined ? 'give the service a port and use it here, or NAT' : `use ${port} or NAT`);

/** Service rules: VIP:port once, DR/TUN without port mapping, node references and roles. */

export function checkServices(site: Site, nodes: ReadonlyMap<string, Node>, out: SpecIssue[]): void {
  const services = site.spec.services ?? [];
  uniqueNames(services, 'spec.services', 'service', out);
  const served = new Map<string, string>();
  services.forEach((svc, i) => {
    const p = `spec.services[${i}]`;
    const proto = svc.protocol ?? DEFAULTS.service.protocol;
    if (svc.fwmark !== undefined) {
      if (svc.vip !== undefined) out.push({ path: `${p}.vip`, message: 'an fwmark service has no vip; remove vip or fwmark' });
      if (svc.port !== undefined) out.push({ path: `${p}.port`, message: 'an fwmark service has no port; remove port or fwmark' });
    } else {
      if (svc.vip === undefined && svc.vips === undefined) out.push({ path: `${p}.vip`, message: 'vip is required (or vips, or fwmark)' });
      if (svc.port === undefined) out.push({ path: `${p}.port`, message: 'port is required (or fwmark)' });
      if (svc.port === 0 && !svc.persistence) out.push({ path: `${p}.port`, message: 'port 0 (all ports) needs persistence' });
    }
    for (const { key, path } of servedKeys(svc, p, proto)) {
      const prev = served.get(key);
      if (prev) out.push({ path, message: `${key} is already served by ${prev}` });
      else served.set(key, p);
    }

    const sched = svc.scheduler ?? DEFAULTS.service.scheduler;
    (svc.schedulerFlags ?? []).forEach((f, j) => {
      if (!f.startsWith(`${sched}-`))
        out.push({ path: `${p}.schedulerFlags[${j}]`, message: `flag ${f} is for the ${f.split('-')[0]} scheduler, not ${sched}` });
    });
    if (svc.persistence) {
      const ms = svc.persistence.timeout === undefined ? DEFAULTS.persistenceTimeoutS * 1000 : durationMs(svc.persistence.timeout);
      // keepalived persistence_timeout: whole seconds, 1 to LVS_MAX_TIMEOUT (31 days; the Duration schema's cap).
      if (ms % 1000 !== 0 || ms < 1000) out.push({ path: `${p}.persistence.timeout`, message: 'persistence timeout is whole seconds, at least 1s' });
      if (svc.persistence.netmask && maskToPrefix(svc.persistence.netmask) === null)
        out.push({ path: `${p}.persistence.netmask`, message: `${svc.persistence.netmask} is not a contiguous netmask` });
    }
    if (svc.onePacket && proto !== 'udp') out.push({ path: `${p}.onePacket`, message: 'one-packet scheduling is for UDP services' });
    if (svc.hysteresis !== undefined && svc.hysteresis >= (svc.quorum ?? DEFAULTS.service.quorum))
      out.push({ path: `${p}.hysteresis`, message: 'hysteresis must be smaller than quorum' });
    (svc.directors ?? []).forEach((d, j) => {
      const n = nodes.get(d);
      if (!n) out.push({ path: `${p}.directors[${j}]`, message: `no node named "${d}" in spec.nodes` });
      else if (n.role !== 'director') out.push({ path: `${p}.directors[${j}]`, message: `node "${d}" is a ${n.role}, not a director` });
    });
    if (!svc.directors && ![...nodes.values()].some((n) => n.role === 'director'))
      out.push({ path: `${p}`, message: 'no director in spec.nodes can serve this service' });
    checkHealth(svc.healthCheck, `${p}.healthCheck`, out);

    const svcFwd = svc.forwarding ?? DEFAULTS.service.forwarding;
    checkServiceFamily(site, svc, p, nodes, svcFwd, out);
    let svcCheckPortIssue = false;
    const rsSeen = new Map<string, number>();
    svc.realServers.forEach((rs, j) => {
      const rp = `${p}.realServers[${j}]`;
      let address = rs.address;
      if (rs.node !== undefined && rs.address !== undefined) out.push({ path: `${rp}.address`, message: 'give node or address, not both' });
      else if (rs.node === undefined && rs.address === undefined) out.push({ path: rp, message: 'node or address is required' });
      if (rs.node !== undefined) {
        const n = nodes.get(rs.node);
        if (!n) out.push({ path: `${rp}.node`, message: `no node named "${rs.node}" in spec.nodes` });
        else if (n.role !== 'realserver') out.push({ path: `${rp}.node`, message: `node "${rs.node}" is a ${n.role}; real servers must have role realserver` });
        else address = n.address;
      }
      const fwd = rs.forwarding ?? svcFwd;
      const port = rs.port ?? svc.port;
      if ((fwd === 'dr' || fwd === 'tun') && rs.port !== undefined && svc.fwmark === undefined && rs.port !== svc.port && svc.port !== 0)
        out.push({ path: `${rp}.port`, message: `${fwd.toUpperCase()} forwarding cannot map ports: ${usePort(svc.port)}` });
      if (rs.lowerThreshold !== undefined && rs.upperThreshold !== undefined && rs.lowerThreshold > rs.upperThreshold)
        out.push({ path: `${rp}.lowerThreshold`, message: 'lowerThreshold must not exceed upperThreshold' });
      checkHealth(rs.healthCheck, `${rp}.healthCheck`, out);
      // A probe that connects needs a port; a real server of an fwmark or port-0 service has none
      // (keepalived connect_port).
      const hc = rs.healthCheck ?? svc.healthCheck;
      if (hc && hc.type !== 'misc' && hc.type !== 'ping' && hc.port === undefined && !(port ?? 0)) {
        const message = 'this real server has no port (fwmark or port 0 service): give the check a port';
        if (rs.healthCheck) out.push({ path: `${rp}.healthCheck.port`, message });
        else if (!svcCheckPortIssue) out.push({ path: `${p}.healthCheck.port`, message });
        svcCheckPortIssue ||= !rs.healthCheck;
      }
      if (address) {
        const key = formatHostPort(address, port ?? 0);
        const first = rsSeen.get(key);
        if (first !== undefined) out.push({ path: rp, message: `real server ${key} is listed twice (also at ${p}.realServers[${first}])` });
        else rsSeen.set(key, j);
      }
    });
    if (svc.sorryServer) {
      const fwd = svc.sorryServer.forwarding ?? svcFwd;
      if (
        (fwd === 'dr' || fwd === 'tun') &&
        svc.sorryServer.port !== undefined &&
        svc.fwmark === undefined &&
        svc.sorryServer.port !== svc.port &&
        svc.port !== 0
      )
        out.push({ path: `${p}.sorryServer.port`, message: `${fwd.toUpperCase()} forwarding cannot map ports: ${usePort(svc.port)}` });
    }
  });
}
