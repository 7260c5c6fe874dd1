/**
 * The LVS half of a director's keepalived.conf: virtual_server, real_server and checkers.
 * keepalived's defaults differ from the spec's (NAT forwarding), so lb_algo, lb_kind and
 * protocol are always written; a service-wide check is written on every real server.
 */
import type { HealthCheck } from '../site/health-check.ts';
import type { RealServer, Service } from '../site/service.ts';
import { DEFAULTS } from '../site/defaults.ts';
import { familyOf, realServerAddress, serviceVips } from '../site/family.ts';
import { type ConfWriter, secs, word } from './render-text.ts';
import type { RenderContext } from './render-vrrp.ts';

const CHECKER: Record<HealthCheck['type'], string> = {
  tcp: 'TCP_CHECK',
  http: 'HTTP_GET',
  https: 'SSL_GET',
  smtp: 'SMTP_CHECK',
  dns: 'DNS_CHECK',
  misc: 'MISC_CHECK',
  udp: 'UDP_CHECK',
  ping: 'PING_CHECK',
};

/** Services this director serves: those naming it, or every service without `directors`. */
export function servedBy(ctx: RenderContext): Service[] {
  return (ctx.site.spec.services ?? []).filter((s) => !s.directors || s.directors.includes(ctx.node.name));
}

function checker(w: ConfWriter, hc: HealthCheck, ctx: RenderContext, where: string): void {
  w.block(CHECKER[hc.type], () => {
    if (hc.type === 'http' || hc.type === 'https') {
      const urls = hc.urls ?? [{ path: hc.path ?? DEFAULTS.check.httpPath, digest: hc.digest, expectStatus: hc.expectStatus }];
      for (const u of urls) {
        w.block('url', () => {
          w.line(`path ${word(u.path)}`).opt('digest', u.digest);
          if (u.expectStatus?.length) w.line(`status_code ${u.expectStatus.join(' ')}`);
        });
      }
      w.opt('virtualhost', hc.virtualhost);
      if (hc.type === 'https' && hc.sni === true) w.line('enable_sni');
      if (hc.type === 'https' && typeof hc.sni === 'string')
        ctx.warnings.push(`${where}: keepalived sends the virtualhost as SNI; sni "${hc.sni}" is left out`);
      if (hc.type === 'https' && hc.verifyCertificate) ctx.warnings.push(`${where}: keepalived does not verify certificates; verifyCertificate is left out`);
    }
    if (hc.type === 'misc') {
      w.line(`misc_path ${word(hc.command)}`).opt('misc_timeout', secs(hc.timeout));
      if (hc.dynamic) w.line('misc_dynamic');
      w.opt('user', hc.user);
    } else {
      w.opt('connect_timeout', secs(hc.timeout));
    }
    w.opt('connect_ip', hc.address).opt('connect_port', hc.port).opt('bindto', hc.bindTo);
    w.opt('delay_loop', secs(hc.interval)).opt('retry', hc.retries).opt('delay_before_retry', secs(hc.retryDelay)).opt('warmup', secs(hc.warmup));
    if (hc.type === 'smtp') w.opt('helo_name', hc.helo);
    if (hc.type === 'dns') w.opt('type', hc.queryType).opt('name', hc.name);
    if (hc.type === 'udp') {
      w.opt('payload', hc.payload);
      if (hc.expect) w.line(`require_reply ${hc.expect}`);
      else if (hc.requireReply) w.line('require_reply');
    }
  });
}

function realServer(w: ConfWriter, svc: Service, rs: RealServer, address: string, ctx: RenderContext): void {
  const fwd = rs.forwarding ?? svc.forwarding ?? DEFAULTS.service.forwarding;
  // keepalived clears (and warns about) a port on DR/TUN real servers of fwmark services.
  const port = svc.fwmark !== undefined && fwd !== 'nat' ? undefined : (rs.port ?? svc.port);
  w.block(`real_server ${address}${port !== undefined ? ` ${port}` : ''}`, () => {
    w.line(`weight ${rs.weight ?? DEFAULTS.realServerWeight}`);
    if (rs.forwarding && rs.forwarding !== (svc.forwarding ?? DEFAULTS.service.forwarding)) w.line(`lvs_method ${rs.forwarding.toUpperCase()}`);
    if (rs.inhibitOnFailure ?? svc.inhibitOnFailure) w.line('inhibit_on_failure');
    if (rs.notifyUp) w.line(`notify_up ${word(rs.notifyUp)}`);
    if (rs.notifyDown) w.line(`notify_down ${word(rs.notifyDown)}`);
    w.opt('uthreshold', rs.upperThreshold).opt('lthreshold', rs.lowerThreshold);
    const hc = rs.healthCheck ?? svc.healthCheck;
    if (hc) checker(w, hc, ctx, `service ${svc.name} real server ${address}`);
  });
}

/**
 * One virtual_server block per VIP (keepalived reads `virtual_server 2001:db8::10 80`, never a
 * bracketed form): a dual-stack service is two blocks, each with the real servers of its family.
 */
export function renderService(w: ConfWriter, svc: Service, ctx: RenderContext): void {
  const vips = serviceVips(svc);
  if (!vips.length) return renderBlock(w, svc, null, ctx);
  for (const vip of [...vips].sort((a, b) => familyOf(a) - familyOf(b))) renderBlock(w, svc, vip, ctx);
}

function renderBlock(w: ConfWriter, svc: Service, vip: string | null, ctx: RenderContext): void {
  const head = vip === null ? `virtual_server fwmark ${svc.fwmark}` : `virtual_server ${vip} ${svc.port}`;
  const family = vip === null ? (svc.family ?? 4) : familyOf(vip);
  const dualStack = serviceVips(svc).length > 1;
  const servers = svc.realServers.flatMap((rs) => {
    const address = realServerAddress(rs, ctx.nodes, family, dualStack);
    return address === null ? [] : [{ rs, address }];
  });
  w.block(head, () => {
    if (vip === null && family === 6) w.line('ip_family inet6');
    w.line(`lb_algo ${svc.scheduler ?? DEFAULTS.service.scheduler}`);
    for (const f of svc.schedulerFlags ?? []) w.line(f);
    w.line(`lb_kind ${(svc.forwarding ?? DEFAULTS.service.forwarding).toUpperCase()}`);
    if (svc.fwmark === undefined) w.line(`protocol ${(svc.protocol ?? DEFAULTS.service.protocol).toUpperCase()}`);
    if (svc.onePacket) w.line('ops');
    // keepalived enables persistence with persistence_timeout; the spec's default is keepalived's 360 s.
    if (svc.persistence) w.line(`persistence_timeout ${secs(svc.persistence.timeout ?? '360s')}`).opt('persistence_granularity', svc.persistence.netmask);
    const sorry = svc.sorryServer && (!dualStack || familyOf(svc.sorryServer.address) === family) ? svc.sorryServer : undefined;
    if (sorry) {
      w.line(`sorry_server ${sorry.address}${sorry.port !== undefined ? ` ${sorry.port}` : ''}`);
      if (sorry.inhibit) w.line('sorry_server_inhibit');
      if (sorry.forwarding) w.line(`sorry_server_lvs_method ${sorry.forwarding.toUpperCase()}`);
    }
    w.opt('quorum', svc.quorum).opt('hysteresis', svc.hysteresis);
    if (svc.quorumUp) w.line(`quorum_up ${word(svc.quorumUp)}`);
    if (svc.quorumDown) w.line(`quorum_down ${word(svc.quorumDown)}`);
    if (svc.alpha) w.line('alpha');
    if (svc.omega) w.line('omega');
    const total = servers.reduce((a, { rs }) => a + (rs.weight ?? DEFAULTS.realServerWeight), 0);
    const quorum = svc.quorum ?? DEFAULTS.service.quorum;
    if (total < quorum)
      ctx.warnings.push(`service ${svc.name}: real server weights add up to ${total}, below quorum ${quorum}; keepalived lowers the quorum to ${total}`);
    for (const { rs, address } of servers) realServer(w, svc, rs, address, ctx);
  });
}
