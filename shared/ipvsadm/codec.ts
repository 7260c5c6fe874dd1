/**
 * ipvsadm save-line codec: one line of `ipvsadm -S` / `-Sn` output (the `ipvsadm-restore`
 * input) ↔ a typed rule. Reads the short and long option spellings of ipvsadm(8), and what
 * `-S` itself prints: `ops` / `--ops` as bare words, `pe NAME`, `--tun-type …`. Writes the
 * `-Sn` order (`-A … -s S [-b F] [-p T [-M MASK]] [-o]`, `-a … -r D -g|-m|-i -w W [-x U] [-y L]`);
 * the only differences from `-Sn` text are `-o` for ops and `-x`/`-y`, which `-S` leaves out.
 */
export type Protocol = 'tcp' | 'udp' | 'sctp';
export type VirtualKey = { protocol: Protocol; address: string; port: number } | { fwmark: number };

export interface ServiceRule {
  kind: 'service';
  key: VirtualKey;
  scheduler: string;
  /** -p: persistence timeout in seconds. */
  persistent?: number;
  /** -M: persistence netmask. */
  netmask?: string;
  /** -o: one-packet scheduling. */
  onePacket?: boolean;
  /** -b: scheduler flags (sh-fallback, sh-port, mh-fallback, mh-port, flag-1…). */
  schedFlags?: string[];
  /** `pe NAME` / --pe: a persistence engine (sip). */
  pe?: string;
}

export interface DestRule {
  kind: 'dest';
  key: VirtualKey;
  address: string;
  port: number;
  /** -g gatewaying (DR), -m masquerading (NAT), -i ipip (TUN). */
  forwarding: 'dr' | 'nat' | 'tun';
  weight: number;
  /** --tun-type ipip|gue|gre (and its options, kept as written): TUN encapsulation. */
  tunnel?: string;
  /** -x / -y connection thresholds; 0 = none. */
  upperThreshold?: number;
  lowerThreshold?: number;
}

export type Rule = ServiceRule | DestRule;

export class IpvsadmParseError extends Error {
  readonly code = 'IPVSADM_PARSE';
}

/** Well-known service names `ipvsadm -S` (without -n) prints instead of port numbers. */
export const SERVICE_PORTS: Record<string, number> = {
  ftp: 21,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  domain: 53,
  http: 80,
  www: 80,
  pop3: 110,
  ntp: 123,
  imap: 143,
  imap2: 143,
  snmp: 161,
  ldap: 389,
  https: 443,
  submission: 587,
  ldaps: 636,
  imaps: 993,
  pop3s: 995,
  mysql: 3306,
  'ms-sql-s': 1433,
  postgresql: 5432,
  'http-alt': 8080,
  webcache: 8080,
  radius: 1812,
  sip: 5060,
};

const SHORT: Record<string, string> = {
  '-A': 'add-service',
  '-E': 'edit-service',
  '-a': 'add-server',
  '-e': 'edit-server',
  '-t': 'tcp-service',
  '-u': 'udp-service',
  '-f': 'fwmark-service',
  '-s': 'scheduler',
  '-p': 'persistent',
  '-M': 'netmask',
  '-r': 'real-server',
  '-g': 'gatewaying',
  '-m': 'masquerading',
  '-i': 'ipip',
  '-w': 'weight',
  '-x': 'u-threshold',
  '-y': 'l-threshold',
  '-o': 'ops',
  '-b': 'sched-flags',
};
const NO_VALUE = new Set([
  'add-service',
  'edit-service',
  'add-server',
  'edit-server',
  'gatewaying',
  'masquerading',
  'ipip',
  'ops',
  'tun-nocsum',
  'tun-csum',
  'tun-remcsum',
]);
/** Words `ipvsadm -S` prints without dashes. */
const BARE: Record<string, string> = { ops: 'ops', pe: 'pe' };

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** `host:port`; a service name is mapped through SERVICE_PORTS, a host name is refused (no DNS here). */
export function parseEndpoint(text: string, what: string): { address: string; port: number } {
  const k = text.lastIndexOf(':');
  const host = k < 0 ? text : text.slice(0, k);
  const portText = k < 0 ? '0' : text.slice(k + 1);
  if (!IPV4.test(host)) {
    if (host.startsWith('[')) throw new IpvsadmParseError(`${what} ${text}: IPv6 is not supported`);
    if (/^[\d.]+$/.test(host)) throw new IpvsadmParseError(`${what} ${text}: "${host}" is not a valid IPv4 address`);
    throw new IpvsadmParseError(`${what} ${text}: "${host}" is a host name; save with ipvsadm -Sn to get addresses`);
  }
  let port: number;
  if (/^\d+$/.test(portText)) port = Number(portText);
  else if (SERVICE_PORTS[portText] !== undefined) port = SERVICE_PORTS[portText];
  else throw new IpvsadmParseError(`${what} ${text}: unknown service name "${portText}"; save with ipvsadm -Sn`);
  if (port > 65535) throw new IpvsadmParseError(`${what} ${text}: port out of range`);
  return { address: host, port };
}

function uint(text: string | undefined, opt: string, max: number): number {
  if (text === undefined || !/^\d+$/.test(text) || Number(text) > max) throw new IpvsadmParseError(`${opt} expects a number 0–${max}, not "${text ?? ''}"`);
  return Number(text);
}

/** Splits a line into options; `--opt=value` and `--opt value` both work. */
function options(words: string[]): Map<string, string | true> {
  const out = new Map<string, string | true>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    let name: string;
    let value: string | undefined;
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      name = eq < 0 ? w.slice(2) : w.slice(2, eq);
      if (eq >= 0) value = w.slice(eq + 1);
    } else if (SHORT[w]) name = SHORT[w];
    else if (BARE[w]) name = BARE[w];
    else if (w === 'ipvsadm') throw new IpvsadmParseError('a second "ipvsadm" command on the same line; put each rule on its own line');
    else throw new IpvsadmParseError(`unknown option "${w}"`);
    if (!NO_VALUE.has(name) && value === undefined) {
      const next = words[i + 1];
      // -p may stand alone (default timeout 300 s).
      if (name === 'persistent' && (next === undefined || next.startsWith('-'))) value = '300';
      else {
        if (next === undefined) throw new IpvsadmParseError(`option ${w} needs a value`);
        value = next;
        i++;
      }
    }
    if (out.has(name)) throw new IpvsadmParseError(`option ${w} given twice`);
    out.set(name, value ?? true);
  }
  return out;
}

function virtualKey(o: Map<string, string | true>): VirtualKey {
  const given = ['tcp-service', 'udp-service', 'sctp-service', 'fwmark-service'].filter((k) => o.has(k));
  if (given.length !== 1) throw new IpvsadmParseError('exactly one of -t, -u, --sctp-service, -f is needed');
  const v = o.get(given[0]) as string;
  if (given[0] === 'fwmark-service') {
    const m = uint(v, '-f', 4294967295);
    if (m === 0) throw new IpvsadmParseError('-f: fwmark must be at least 1');
    return { fwmark: m };
  }
  return { protocol: given[0].split('-')[0] as Protocol, ...parseEndpoint(v, 'virtual service') };
}

/** Parses one save line (a leading `ipvsadm` word is allowed, as in shell scripts). Null for blank/comment lines. */
export function parseRule(line: string): Rule | null {
  const words = line.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0 || words[0].startsWith('#')) return null;
  if (words[0] === 'ipvsadm') words.shift();
  const o = options(words);
  const key = virtualKey(o);
  const allowed = (names: string[]) => {
    for (const k of o.keys()) if (!names.includes(k)) throw new IpvsadmParseError(`option --${k} does not belong in this rule`);
  };
  if (o.has('add-service') || o.has('edit-service')) {
    allowed([
      'add-service',
      'edit-service',
      'tcp-service',
      'udp-service',
      'sctp-service',
      'fwmark-service',
      'scheduler',
      'persistent',
      'netmask',
      'ops',
      'sched-flags',
      'pe',
    ]);
    const rule: ServiceRule = { kind: 'service', key, scheduler: (o.get('scheduler') as string | undefined) ?? 'wlc' };
    if (o.has('persistent')) rule.persistent = uint(o.get('persistent') as string, '-p', 2678400);
    if (o.has('netmask')) {
      const m = o.get('netmask') as string;
      if (!IPV4.test(m)) throw new IpvsadmParseError(`-M expects a netmask, not "${m}"`);
      rule.netmask = m;
    }
    if (o.has('ops')) rule.onePacket = true;
    if (o.has('sched-flags')) rule.schedFlags = (o.get('sched-flags') as string).split(',').filter(Boolean);
    if (o.has('pe')) rule.pe = o.get('pe') as string;
    return rule;
  }
  if (o.has('add-server') || o.has('edit-server')) {
    const tun = ['tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'];
    allowed([
      'add-server',
      'edit-server',
      'tcp-service',
      'udp-service',
      'sctp-service',
      'fwmark-service',
      'real-server',
      'gatewaying',
      'masquerading',
      'ipip',
      'weight',
      'u-threshold',
      'l-threshold',
      ...tun,
    ]);
    const rs = o.get('real-server');
    if (typeof rs !== 'string') throw new IpvsadmParseError('-a needs -r SERVER:PORT');
    const ep = parseEndpoint(rs, 'real server');
    const fwds = (['gatewaying', 'masquerading', 'ipip'] as const).filter((k) => o.has(k));
    if (fwds.length > 1) throw new IpvsadmParseError('give one of -g, -m, -i');
    const forwarding = fwds[0] === 'masquerading' ? 'nat' : fwds[0] === 'ipip' ? 'tun' : 'dr'; // ipvsadm's default is -g
    const rule: DestRule = {
      kind: 'dest',
      key,
      address: ep.address,
      port: ep.port,
      forwarding,
      weight: o.has('weight') ? uint(o.get('weight') as string, '-w', 65535) : 1,
    };
    // 0 means "no threshold": leave it out so rules compare equal however ipvsadm printed them.
    const x = o.has('u-threshold') ? uint(o.get('u-threshold') as string, '-x', 4294967295) : 0;
    const y = o.has('l-threshold') ? uint(o.get('l-threshold') as string, '-y', 4294967295) : 0;
    if (x) rule.upperThreshold = x;
    if (y) rule.lowerThreshold = y;
    const t = tun.filter((k) => o.has(k)).map((k) => (o.get(k) === true ? `--${k}` : `--${k} ${o.get(k)}`));
    if (t.length) rule.tunnel = t.join(' ');
    return rule;
  }
  throw new IpvsadmParseError('not a rule: expected -A (add service) or -a (add server)');
}

function keyArgs(key: VirtualKey): string {
  if ('fwmark' in key) return `-f ${key.fwmark}`;
  const flag = key.protocol === 'tcp' ? '-t' : key.protocol === 'udp' ? '-u' : '--sctp-service';
  return `${flag} ${key.address}:${key.port}`;
}

/** Formats a rule as `ipvsadm -Sn` prints it. */
export function formatRule(r: Rule): string {
  if (r.kind === 'service') {
    let s = `-A ${keyArgs(r.key)} -s ${r.scheduler}`;
    if (r.schedFlags?.length) s += ` -b ${r.schedFlags.join(',')}`;
    if (r.persistent !== undefined) s += ` -p ${r.persistent}`;
    if (r.netmask !== undefined && r.netmask !== '255.255.255.255') s += ` -M ${r.netmask}`;
    if (r.pe) s += ` --pe ${r.pe}`;
    if (r.onePacket) s += ' -o';
    return s;
  }
  const fwd = r.forwarding === 'nat' ? '-m' : r.forwarding === 'tun' ? '-i' : '-g';
  let s = `-a ${keyArgs(r.key)} -r ${r.address}:${r.port} ${fwd} -w ${r.weight}`;
  if (r.tunnel) s += ` ${r.tunnel}`;
  if (r.upperThreshold) s += ` -x ${r.upperThreshold}`;
  if (r.lowerThreshold) s += ` -y ${r.lowerThreshold}`;
  return s;
}

/** Stable key of a virtual service, for grouping destinations under their service. */
export function keyString(k: VirtualKey): string {
  return 'fwmark' in k ? `fwmark ${k.fwmark}` : `${k.protocol} ${k.address}:${k.port}`;
}
