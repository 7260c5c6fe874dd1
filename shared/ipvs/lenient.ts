/**
 * The lenient reader for hand-written ipvsadm rules (shell scripts, /etc/sysconfig/ipvsadm saved
 * without -n): a leading `ipvsadm`, the long options of ipvsadm(8) (`--add-service`,
 * `--tcp-service=VIP:PORT`), service names instead of ports (`:http`), `-p` without a timeout.
 * It rewrites the line into the strict grammar and parses that with ./codec.ts, so imported
 * rules land in the same model the agent programs. What the model does not hold comes back
 * beside it, for the importer to warn about.
 */
import { IpvsadmSyntaxError, parseLine } from './codec.ts';
import type { IpvsOp } from './model.ts';

export interface ReadRule {
  op: IpvsOp;
  /** `-b` as written (the model names and sorts the flags). */
  schedFlags?: string;
  /** `pe NAME` / `--pe NAME`: a persistence engine (sip). */
  pe?: string;
  /** `--tun-type …` and its options, as written: TUN encapsulation. */
  tunnel?: string;
}

/** Well-known service names `ipvsadm -S` (without -n) prints instead of port numbers. */
const SERVICE_PORTS: Record<string, number> = {
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

/** Long options → the short spelling the strict grammar reads. */
const LONG: Record<string, string> = {
  'add-service': '-A',
  'edit-service': '-E',
  'delete-service': '-D',
  'add-server': '-a',
  'edit-server': '-e',
  'delete-server': '-d',
  'tcp-service': '-t',
  ipv6: '-6',
  'udp-service': '-u',
  'sctp-service': '--sctp-service',
  'fwmark-service': '-f',
  scheduler: '-s',
  persistent: '-p',
  netmask: '-M',
  'real-server': '-r',
  gatewaying: '-g',
  masquerading: '-m',
  ipip: '-i',
  weight: '-w',
  'u-threshold': '-x',
  'l-threshold': '-y',
  ops: '-o',
  'sched-flags': '-b',
  pe: '--pe',
};
/** Words `ipvsadm -S` prints without dashes. */
const BARE: Record<string, string> = { ops: '-o', pe: '--pe' };
const COMMANDS = new Set(['-A', '-E', '-D', '-a', '-e', '-d']);
const ENDPOINTS = new Set(['-t', '-u', '--sctp-service', '-r']);
const TUNNEL = new Set(['--tun-type', '--tun-port', '--tun-nocsum', '--tun-csum', '--tun-remcsum']);
const TUNNEL_VALUE = new Set(['--tun-type', '--tun-port']);
/** Other options that take a value (spelled as the strict grammar reads them). */
const VALUE = new Set(['-f', '-s', '-p', '-M', '-w', '-x', '-y']);

/**
 * `host[:port]` or `[ipv6][:port]` (ipvsadm(8): an IPv6 address in brackets) with a service name
 * mapped through SERVICE_PORTS; a host name is refused (no DNS here).
 */
function endpoint(text: string, what: string): string {
  const v6 = /^(\[[^\]]*\])(?::(.*))?$/.exec(text);
  if (v6) return portOf(v6[1], v6[2] ?? '0', text, what);
  if ((text.match(/:/g) ?? []).length > 1) throw new IpvsadmSyntaxError(`${what} ${text}: an IPv6 address goes in brackets, like [2001:db8::10]:80`);
  const k = text.lastIndexOf(':');
  const host = k < 0 ? text : text.slice(0, k);
  const port = k < 0 ? '0' : text.slice(k + 1);
  if (!/^[\d.]+$/.test(host)) throw new IpvsadmSyntaxError(`${what} ${text}: "${host}" is a host name; save with ipvsadm -Sn to get addresses`);
  return portOf(host, port, text, what);
}

/** `host:port` with a numeric port, or a service name mapped through SERVICE_PORTS. */
function portOf(host: string, port: string, text: string, what: string): string {
  if (/^\d+$/.test(port)) return `${host}:${port}`;
  if (SERVICE_PORTS[port] === undefined) throw new IpvsadmSyntaxError(`${what} ${text}: unknown service name "${port}"; save with ipvsadm -Sn`);
  return `${host}:${SERVICE_PORTS[port]}`;
}

/** Reads one hand-written rule line; null for blank and comment lines. Throws IpvsadmSyntaxError. */
export function readRule(line: string): ReadRule | null {
  const words = line.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0 || words[0].startsWith('#')) return null;
  if (words[0] === 'ipvsadm') words.shift();
  const out: string[] = [];
  const tunnel: string[] = [];
  let command: string | null = null;
  let pe: string | undefined;
  let schedFlags: string | undefined;
  for (let i = 0; i < words.length; i++) {
    let w = words[i];
    if (w === 'ipvsadm') throw new IpvsadmSyntaxError('a second "ipvsadm" command on the same line; put each rule on its own line');
    let value: string | undefined;
    if (w.startsWith('--') && w.includes('=')) [w, value] = [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)];
    w = (w.startsWith('--') ? LONG[w.slice(2)] : BARE[w]) ?? w;
    if (COMMANDS.has(w)) {
      if (command) throw new IpvsadmSyntaxError(`option ${words[i]} given twice`);
      command = w;
      continue;
    }
    const next = (): string => {
      if (value !== undefined) return value;
      if (words[i + 1] === undefined) throw new IpvsadmSyntaxError(`option ${words[i]} needs a value`);
      return words[++i];
    };
    if (w === '-p' && value === undefined && (words[i + 1] === undefined || words[i + 1].startsWith('-') || words[i + 1] === 'ops'))
      out.push('-p', '300'); // ipvsadm's default timeout
    else if (ENDPOINTS.has(w)) out.push(w, endpoint(next(), w === '-r' ? 'real server' : 'virtual service'));
    else if (w === '--pe') pe = next();
    else if (w === '-b') out.push(w, (schedFlags = next()));
    else if (TUNNEL.has(w)) tunnel.push(TUNNEL_VALUE.has(w) ? `${w} ${next()}` : w);
    else if (VALUE.has(w)) out.push(w, next());
    else if (value !== undefined) out.push(w, value);
    else out.push(w);
  }
  if (!command) throw new IpvsadmSyntaxError(`not a rule: expected -A (add service) or -a (add server)${words.length ? `, not "${words[0]}"` : ''}`);
  const op = parseLine([command, ...out].join(' '));
  return {
    op,
    ...(schedFlags !== undefined ? { schedFlags } : {}),
    ...(pe !== undefined ? { pe } : {}),
    ...(tunnel.length ? { tunnel: tunnel.join(' ') } : {}),
  };
}
