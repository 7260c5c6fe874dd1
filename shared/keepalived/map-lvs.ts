/**
 * virtual_server / real_server / virtual_server_group → spec services (keepalived.conf(5),
 * "LVS CONFIGURATION"). keepalived's defaults are made explicit where the spec's differ:
 * keepalived forwards with NAT unless lb_kind says otherwise, the spec defaults to DR.
 */
import { SCHEDULERS } from '../site/ipvs-words.ts';
import type { RealServer, Service } from '../site/service.ts';
import { canonicalJson } from '../util/canonical-json.ts';
import { formatDuration } from '../util/duration.ts';
import { canonicalIp, intToIp, ipToInt, IPV4_RE, isIpv6 } from '../util/ip.ts';
import type { Token } from './lexer.ts';
import type { FileImport } from './model.ts';
import type { Stmt } from './parser.ts';
import { suggest } from '../util/did-you-mean.ts';
import { CHECK_DEFAULTS, CHECKERS, UNSUPPORTED_CHECKERS, mapChecker } from './map-checks.ts';
import { strip } from './map-vrrp.ts';
import { entries, flag, int, ip, ipv4, one, rest, needsBlock } from './values.ts';
import { error, lenient, walk, warn, type Cx, type Handler } from './walk.ts';

type Fwd = 'dr' | 'nat' | 'tun';
type Draft = Partial<Service> & {
  checkDefaults: Record<string, unknown>;
  realServers: RealServer[];
  /** Where each real server's (first) checker was written, by index in realServers. */
  checkAt: (Token | undefined)[];
};

/**
 * lb_kind / lvs_method: keepalived compares the value case-sensitively (`dr` is not `DR`),
 * reports anything else and keeps the method it had: NAT unless set before.
 */
function forwarding(st: Stmt, cx: Cx): Fwd | undefined {
  const v = one(st, cx);
  if (v === undefined) return undefined;
  if (v === 'DR' || v === 'NAT' || v === 'TUN') return v.toLowerCase() as Fwd;
  const hint = ['DR', 'NAT', 'TUN'].includes(v.toUpperCase()) ? ` (keepalived compares it case-sensitively: write ${v.toUpperCase()})` : '';
  lenient(cx, st.args[0], `unknown ${st.keyword.text} "${v}"${hint}: keepalived ignores it and keeps the previous method (NAT by default)`);
  return undefined;
}

const SERVICE_UNSUPPORTED = ['ha_suspend', 'smtp_alert', 'flag-1', 'flag-2', 'flag-3', 'persistence_engine', 'lvs_flush_on_stop', 'lb_flags', 'alive_delay'];
const RS_UNSUPPORTED = ['smtp_alert', 'alpha'];

function realServer(st: Stmt, svc: Draft, cx: Cx): void {
  if (!needsBlock(st, cx)) return;
  const address = ip(st, cx, st.args[0]?.text);
  if (!address) return;
  const port = st.args[1] ? int(st, cx, 0, 65535, st.args[1].text) : undefined;
  const rs: RealServer & { checks?: unknown[] } = { address, ...(port !== undefined ? { port } : {}) };
  const checks: NonNullable<RealServer['healthCheck']>[] = [];
  let checkAt: Token | undefined;
  const rsDefaults: Record<string, unknown> = {};
  const handlers: Record<string, Handler<typeof rs>> = {
    weight: (x, r, c) => {
      const v = one(x, c);
      if (v !== undefined && /^-\d+$/.test(v))
        error(c, x.args[0], `real_server weight ${v} is negative: weights are 0–65535 (a negative weight belongs to vrrp_script or track_interface)`);
      else r.weight = int(x, c, 0, 65535, v);
    },
    inhibit_on_failure: (x, r, c) => {
      flag(x, c);
      r.inhibitOnFailure = true;
    },
    notify_up: (x, r, c) => {
      r.notifyUp = rest(x, c);
    },
    notify_down: (x, r, c) => {
      r.notifyDown = rest(x, c);
    },
    uthreshold: (x, r, c) => {
      r.upperThreshold = int(x, c, 0, 4294967295);
    },
    lthreshold: (x, r, c) => {
      r.lowerThreshold = int(x, c, 0, 4294967295);
    },
    lvs_method: (x, r, c) => {
      r.forwarding = forwarding(x, c) ?? r.forwarding;
    },
    // keepalived 2.2 has lb_kind only on the virtual_server; in a real_server it is an unknown keyword.
    lb_kind: (x, _r, c) => {
      lenient(c, x.keyword, `lb_kind is not a real_server keyword (keepalived ignores it there); use lvs_method`);
    },
  };
  for (const [k, h] of Object.entries(CHECK_DEFAULTS)) handlers[k] = (x, _r, c) => h(x, rsDefaults, c);
  presetDefaults(st.block!, rsDefaults);
  for (const name of Object.keys(CHECKERS)) {
    handlers[name] = (x, _r, c) => {
      const d = { ...svc.checkDefaults, ...rsDefaults };
      if (CHECKERS[name] !== 'http' && CHECKERS[name] !== 'https') delete d.virtualhost;
      const hc = mapChecker(x, c, d);
      if (hc) {
        if (checks.length === 1) warn(c, x.keyword, `real_server ${address} has several checkers; the site spec keeps one, so only the first is used`);
        checkAt ??= x.keyword;
        checks.push(hc);
      }
    };
  }
  walk(st.block, st, rs, cx, { what: `real_server ${address}`, handlers, unsupported: [...RS_UNSUPPORTED, ...UNSUPPORTED_CHECKERS] });
  if (checks.length) rs.healthCheck = checks[0];
  if (rs.forwarding !== undefined && rs.forwarding === svc.forwarding) delete rs.forwarding;
  svc.realServers.push(strip(rs));
  svc.checkAt.push(checkAt);
}

/**
 * A real server without a port in an fwmark or port-0 service keeps port 0 (the packet's own
 * port). A checker there that connects (not MISC_CHECK or PING_CHECK) and has no connect_port
 * probes port 0: keepalived runs it, the probe can never succeed, and the real server never
 * serves. That would be a spec that cannot work, so it is refused at the checker's line.
 */
function portlessChecks(d: Draft, what: string, cx: Cx): void {
  d.realServers.forEach((rs, i) => {
    const hc = rs.healthCheck;
    const at = d.checkAt[i];
    if (!hc || !at || rs.port || hc.type === 'misc' || hc.type === 'ping' || hc.port !== undefined) return;
    error(
      cx,
      at,
      `${at.text} of real_server ${rs.address} probes port 0: the real server has no port (${what}) and the check no connect_port, so keepalived's check never passes and the real server never serves; give the check a connect_port`,
    );
  });
}

const serviceHandlers: Record<string, Handler<Draft>> = {
  lb_algo: (st, s, cx) => scheduler(st, s, cx),
  lvs_sched: (st, s, cx) => scheduler(st, s, cx),
  lb_kind: (st, s, cx) => {
    s.forwarding = forwarding(st, cx) ?? s.forwarding;
  },
  lvs_method: (st, s, cx) => {
    s.forwarding = forwarding(st, cx) ?? s.forwarding;
  },
  persistence_timeout: (st, s, cx) => {
    const v = int(st, cx, 0, 2678400);
    if (v) s.persistence = { ...s.persistence, timeout: formatDuration(v * 1000) };
  },
  persistence_granularity: (st, s, cx) => {
    const v = ipv4(st, cx);
    if (v) s.persistence = { ...s.persistence, netmask: v };
  },
  protocol: (st, s, cx) => {
    const v = one(st, cx);
    const p = v?.toLowerCase();
    if (p === 'tcp' || p === 'udp' || p === 'sctp') s.protocol = p;
    else if (v !== undefined) error(cx, st.args[0], `protocol must be TCP, UDP or SCTP, not "${v}"`);
  },
  sorry_server: (st, s, cx) => {
    const address = ip(st, cx, st.args[0]?.text);
    const port = st.args[1] ? int(st, cx, 0, 65535, st.args[1].text) : undefined;
    if (address) s.sorryServer = { ...s.sorryServer, address, ...(port !== undefined ? { port } : {}) };
  },
  /** keepalived ip_family inet|inet6: the family of an fwmark service's packets (an address service has its VIP's). */
  ip_family: (st, s, cx) => {
    const v = one(st, cx);
    if (v === 'inet6') s.family = 6;
    else if (v === 'inet') s.family = 4;
    else if (v !== undefined) error(cx, st.args[0], `ip_family must be inet or inet6, not "${v}"`);
  },
  sorry_server_inhibit: (st, s, cx) => {
    flag(st, cx);
    s.sorryServer = { ...s.sorryServer!, inhibit: true };
  },
  sorry_server_lvs_method: (st, s, cx) => {
    const fwd = forwarding(st, cx);
    if (fwd) s.sorryServer = { ...s.sorryServer!, forwarding: fwd };
  },
  quorum: (st, s, cx) => {
    s.quorum = int(st, cx, 1, 2 ** 31);
  },
  hysteresis: (st, s, cx) => {
    s.hysteresis = int(st, cx, 0, 2 ** 31);
  },
  quorum_up: (st, s, cx) => {
    s.quorumUp = rest(st, cx);
  },
  quorum_down: (st, s, cx) => {
    s.quorumDown = rest(st, cx);
  },
  alpha: (st, s, cx) => {
    flag(st, cx);
    s.alpha = true;
  },
  omega: (st, s, cx) => {
    flag(st, cx);
    s.omega = true;
  },
  inhibit_on_failure: (st, s, cx) => {
    flag(st, cx);
    s.inhibitOnFailure = true;
  },
  ops: (st, s, cx) => {
    flag(st, cx);
    s.onePacket = true;
  },
  nat_mask: (st, _s, cx) => {
    warn(cx, st.keyword, 'nat_mask is obsolete and ignored by keepalived; dropped');
  },
  real_server: (st, s, cx) => realServer(st, s, cx),
};
for (const [k, h] of Object.entries(CHECK_DEFAULTS)) serviceHandlers[k] = (st, s, cx) => h(st, s.checkDefaults, cx);
for (const f of ['sh-port', 'sh-fallback', 'mh-port', 'mh-fallback'] as const) {
  serviceHandlers[f] = (st, s, cx) => {
    flag(st, cx);
    s.schedulerFlags = [...(s.schedulerFlags ?? []), f];
  };
}

function scheduler(st: Stmt, s: Draft, cx: Cx): void {
  const v = one(st, cx);
  if (v === undefined) return;
  if ((SCHEDULERS as readonly string[]).includes(v)) s.scheduler = v as Service['scheduler'];
  else {
    const hint = suggest(v, SCHEDULERS);
    error(cx, st.args[0], `unknown scheduler "${v}"${hint ? `; did you mean ${hint}?` : ` (one of ${SCHEDULERS.join(' ')})`}`);
  }
}

/**
 * keepalived applies block-level checker timing however late in the block it is written,
 * so it is read before the checkers (quietly: the walk reports its mistakes).
 */
function presetDefaults(block: Stmt[], into: Record<string, unknown>): void {
  const quiet: Cx = { diags: [] };
  for (const x of block) if (Object.hasOwn(CHECK_DEFAULTS, x.keyword.text)) CHECK_DEFAULTS[x.keyword.text](x, into, quiet);
}

/** One virtual_server_group entry: `IP PORT`, `IP-LAST PORT` (address range) or `fwmark N`. */
type Endpoint = { vip: string; port: number } | { fwmark: number };

/** A range becomes one service per address: bounded, since a file is hostile input. */
const MAX_RANGE = 256;

/**
 * keepalived's IPv6 range `ae00::2-9`: the last 16-bit group runs from the address's to LAST
 * (hex), in RFC 5952 form; null when it is not an address (and range).
 */
function ipv6Range(text: string): string[] | null {
  const dash = text.lastIndexOf('-');
  const first = dash < 0 ? text : text.slice(0, dash);
  if (!isIpv6(first)) return null;
  if (dash < 0) return [canonicalIp(first)];
  const lastText = text.slice(dash + 1);
  if (!/^[0-9A-Fa-f]{1,4}$/.test(lastText)) return null;
  const groups = canonicalIp(first).split(':');
  const start = parseInt(groups[groups.length - 1] || '0', 16);
  const end = parseInt(lastText, 16);
  if (end < start || end - start >= MAX_RANGE) return [];
  const base = canonicalIp(first).replace(/[0-9a-f]*$/, '');
  return Array.from({ length: end - start + 1 }, (_, k) => canonicalIp(`${base}${(start + k).toString(16)}`));
}

/** virtual_server_group NAME { … } → its endpoints, by group name. */
export function mapServerGroup(st: Stmt, groups: Map<string, Endpoint[]>, cx: Cx): void {
  if (!needsBlock(st, cx) || !st.args[0]) return void (st.args[0] || error(cx, st.keyword, 'virtual_server_group needs a name'));
  const out: Endpoint[] = [];
  for (const e of entries(st, cx)) {
    if (e.keyword.text === 'fwmark') {
      const m = int(e, cx, 1, 4294967295);
      if (m !== undefined) out.push({ fwmark: m });
      continue;
    }
    const port = int(e, cx, 0, 65535, e.args[0]?.text);
    if (e.keyword.text.includes(':')) {
      const range = ipv6Range(e.keyword.text);
      if (range === null) error(cx, e.keyword, `"${e.keyword.text}" is not an IPv6 address or range (ADDRESS or ADDRESS-LAST, LAST the last group in hex)`);
      else if (range.length === 0 || range.length > MAX_RANGE)
        error(cx, e.keyword, `address range ${e.keyword.text} is empty or longer than ${MAX_RANGE} addresses`);
      else if (port !== undefined) out.push(...range.map((vip) => ({ vip, port })));
      continue;
    }
    const m = /^(\d+\.\d+\.\d+\.)(\d+)(?:-(\d+))?$/.exec(e.keyword.text);
    if (!m || !IPV4_RE.test(m[1] + m[2]) || port === undefined) {
      if (!m) error(cx, e.keyword, `"${e.keyword.text}" is not an IPv4 or IPv6 address or range`);
      continue;
    }
    const first = ipToInt(m[1] + m[2]);
    const last = m[3] === undefined ? first : ipToInt(m[1] + m[3]);
    if (last < first || Number(m[3]) > 255) error(cx, e.keyword, `address range ${e.keyword.text} is empty or invalid`);
    for (let a = first; a <= last; a++) out.push({ vip: intToIp(a), port });
  }
  groups.set(st.args[0].text, out);
}

/** virtual_server IP PORT | fwmark N | group NAME { … } → one service per endpoint. */
export function mapVirtualServer(st: Stmt, f: FileImport, groups: Map<string, Endpoint[]>, cx: Cx): void {
  if (!needsBlock(st, cx)) return;
  const [a0, a1] = st.args;
  let endpoints: Endpoint[];
  if (a0?.text === 'fwmark') {
    const m = int(st, cx, 1, 4294967295, a1?.text);
    if (m === undefined) return;
    endpoints = [{ fwmark: m }];
  } else if (a0?.text === 'group') {
    const g = a1 && groups.get(a1.text);
    if (!g) return void error(cx, a1 ?? st.keyword, `no virtual_server_group named "${a1?.text ?? ''}"`);
    warn(cx, st.keyword, `virtual_server group ${a1.text} becomes ${g.length} services (the site spec has no server groups)`);
    endpoints = g;
  } else {
    if (a0 && /^\[.*\](:\d*)?$/.test(a0.text))
      return void error(
        cx,
        a0,
        `keepalived refuses "${a0.text}" ("Invalid virtual server IP address ... - skipping"): write the address bare and the port apart, like virtual_server 2001:db8::10 80`,
      );
    const vip = ip(st, cx, a0?.text);
    const port = int(st, cx, 0, 65535, a1?.text);
    if (!vip || port === undefined) return;
    endpoints = [{ vip, port }];
  }
  const d: Draft = { checkDefaults: {}, realServers: [], checkAt: [] };
  presetDefaults(st.block!, d.checkDefaults);
  walk(st.block, st, d, cx, { what: `virtual_server ${st.args.map((t) => t.text).join(' ')}`, handlers: serviceHandlers, unsupported: SERVICE_UNSUPPORTED });
  if (d.sorryServer && !d.sorryServer.address) return void error(cx, st.keyword, 'sorry_server_inhibit / sorry_server_lvs_method without sorry_server');
  const portless = endpoints.find((ep) => 'fwmark' in ep || ep.port === 0);
  if (portless) portlessChecks(d, 'fwmark' in portless ? 'fwmark service' : 'port 0 service', cx);
  const { checkDefaults: _c, checkAt: _a, ...svc } = d;
  svc.forwarding ??= 'nat'; // keepalived's default lb_kind
  if (a0?.text === 'fwmark') {
    if (svc.protocol) warn(cx, st.keyword, 'protocol is ignored by keepalived for an fwmark service; dropped');
    delete svc.protocol;
    if (svc.family === 4) delete svc.family; // the default
  } else {
    svc.protocol ??= 'tcp';
    const clash = endpoints.find((ep) => 'vip' in ep && svc.family !== undefined && (ep.vip.includes(':') ? 6 : 4) !== svc.family);
    if (clash && 'vip' in clash)
      return void error(cx, st.keyword, `ip_family inet${svc.family === 6 ? '6' : ''} does not match the virtual server address ${clash.vip}`);
    delete svc.family; // an address service has its VIP's family
  }
  hoist(svc as Service);
  for (const ep of endpoints) {
    // A name has no ":", so an IPv6 VIP's colons become "-".
    const name = 'fwmark' in ep ? `fwmark-${ep.fwmark}${svc.family === 6 ? '-v6' : ''}` : `${svc.protocol ?? 'tcp'}-${ep.vip.replaceAll(':', '-')}-${ep.port}`;
    const one = { name, ...ep, ...structuredClone(svc) };
    if ('fwmark' in ep) delete one.protocol; // a group's fwmark entry has no protocol
    f.services.push({ at: st.keyword, service: strip(one) as Service });
  }
}

/** The same check (or inhibit_on_failure) on every real server → one on the service. */
function hoist(svc: Service): void {
  const rss = svc.realServers;
  if (rss.length && rss.every((r) => r.healthCheck && canonicalJson(r.healthCheck) === canonicalJson(rss[0].healthCheck))) {
    svc.healthCheck = rss[0].healthCheck;
    for (const r of rss) delete r.healthCheck;
  }
  if (rss.length && rss.every((r) => r.inhibitOnFailure)) {
    svc.inhibitOnFailure = true;
    for (const r of rss) delete r.inhibitOnFailure;
  }
}
