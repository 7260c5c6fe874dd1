/**
 * The ipvsadm rule-line codec, strict: one line of `ipvsadm -Sn` output or of an `ipvsadm -R`
 * batch ↔ one operation on the IPVS model (./model.ts). It reads what `-Sn` prints (short
 * options, IPv4 addresses and IPv6 ones in brackets, numeric ports; `ops` and `pe NAME` as bare
 * words, `--tun-*` options) and writes the lines the agent pipes to `ipvsadm -R` and `export
 * ipvsadm` prints (ipvsadm's print_service_entry: `-t [2001:db8::10]:80`, `-f 1 -6`, an IPv6
 * persistence netmask as a prefix length):
 *   -A|-E -t|-u|--sctp-service VIP:PORT|-f MARK [-6] -s SCHED [-p T [-M MASK]] [-o] [-b FLAGS]
 *   -a|-e … -r RIP:PORT -g|-m|-i -w W [-x U] [-y L]          -D …          -d … -r RIP:PORT
 * Anything else is an error naming the word. Hand-written rules (long options, service names,
 * scripts) go through ./lenient.ts, which rewrites them into this grammar.
 */
import type { IpvsDest, IpvsForwarding, IpvsOp, IpvsProtocol, IpvsService, IpvsTable } from './model.ts';
import { sameServiceKey, serviceKey } from './model.ts';
import { canonicalIp, formatHostPort, isIpv6 } from '../util/ip.ts';
import { eachLineInSteps } from '../util/lines-in-steps.ts';

export class IpvsadmSyntaxError extends Error {
  readonly code = 'IPVSADM_SYNTAX';
}

const COMMANDS: Record<string, IpvsOp['op']> = {
  '-A': 'add-service',
  '-E': 'edit-service',
  '-D': 'delete-service',
  '-a': 'add-dest',
  '-e': 'edit-dest',
  '-d': 'delete-dest',
};
const COMMAND_OF = Object.fromEntries(Object.entries(COMMANDS).map(([k, v]) => [v, k])) as Record<IpvsOp['op'], string>;
const PROTO_SWITCH: Record<IpvsProtocol, string> = { tcp: '-t', udp: '-u', sctp: '--sctp-service' };
const SWITCH_PROTO: Record<string, IpvsProtocol> = { '-t': 'tcp', '-u': 'udp', '--sctp-service': 'sctp' };
const FWD_SWITCH: Record<IpvsForwarding, string> = { dr: '-g', nat: '-m', tun: '-i' };
const SWITCH_FWD: Record<string, IpvsForwarding> = { '-g': 'dr', '-m': 'nat', '-i': 'tun' };
/** ipvsadm prints scheduler flags as flag-1..3 in some versions; their meaning depends on the scheduler. */
const GENERIC_FLAGS: Record<string, string[]> = { sh: ['sh-fallback', 'sh-port'], mh: ['mh-fallback', 'mh-port'] };

const IDENT = ['-t', '-u', '--sctp-service', '-f'];
const SERVICE_OPTS = [...IDENT, '-6', '-s', '-p', '-M', '-o', '-b', '--pe'];
/** Tunnel encapsulation (GUE/GRE) is not managed by lvsfleet: read, kept out of the model. */
const TUNNEL_OPTS = ['--tun-type', '--tun-port', '--tun-nocsum', '--tun-csum', '--tun-remcsum'];
const DEST_OPTS = [...IDENT, '-6', '-r', '-g', '-m', '-i', '-w', '-x', '-y', ...TUNNEL_OPTS];
const ALLOWED: Record<IpvsOp['op'], Set<string>> = {
  'add-service': new Set(SERVICE_OPTS),
  'edit-service': new Set(SERVICE_OPTS),
  'delete-service': new Set([...IDENT, '-6']),
  'add-dest': new Set(DEST_OPTS),
  'edit-dest': new Set(DEST_OPTS),
  'delete-dest': new Set([...IDENT, '-6', '-r']),
};
const TAKES_VALUE = new Set([...IDENT, '-s', '-p', '-M', '-b', '--pe', '-r', '-w', '-x', '-y', '--tun-type', '--tun-port']);
const KNOWN = new Set([...SERVICE_OPTS, ...DEST_OPTS]);
/** What `ipvsadm -S` prints for one-packet scheduling and a persistence engine (without dashes in some versions). */
const SPELLINGS = new Map([
  ['ops', '-o'],
  ['--ops', '-o'],
  ['pe', '--pe'],
]);

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** `A.B.C.D:PORT` or `[IPV6]:PORT` with a numeric port; an IPv6 address comes back in RFC 5952 form. */
function parseEndpoint(text: string, what: string): { address: string; port: number } {
  const k = text.lastIndexOf(':');
  if (k < 0) throw new IpvsadmSyntaxError(`${what} ${text}: expected ADDRESS:PORT`);
  const port = text.slice(k + 1);
  if (text.startsWith('[')) {
    const v6 = /^\[([^\]]*)\]:[^:]*$/.exec(text)?.[1];
    if (v6 === undefined) throw new IpvsadmSyntaxError(`${what} ${text}: expected [IPV6]:PORT`);
    if (!isIpv6(v6)) throw new IpvsadmSyntaxError(`${what} ${text}: "${v6}" is not a valid IPv6 address`);
    if (!/^\d+$/.test(port)) throw new IpvsadmSyntaxError(`${what} ${text}: port "${port}" is not a number`);
    if (Number(port) > 65535) throw new IpvsadmSyntaxError(`${what} ${text}: port out of range`);
    return { address: canonicalIp(v6), port: Number(port) };
  }
  const host = text.slice(0, k);
  if (host.includes(':')) throw new IpvsadmSyntaxError(`${what} ${text}: an IPv6 address goes in brackets, like [2001:db8::10]:80`);
  if (!IPV4.test(host)) throw new IpvsadmSyntaxError(`${what} ${text}: "${host}" is not a valid IPv4 address`);
  if (!/^\d+$/.test(port)) throw new IpvsadmSyntaxError(`${what} ${text}: port "${port}" is not a number`);
  if (Number(port) > 65535) throw new IpvsadmSyntaxError(`${what} ${text}: port out of range`);
  return { address: host, port: Number(port) };
}

/** A whole number in [min, max], or `message` (ipvsadm's own wording where it has one). */
function uint(text: string | undefined, min: number, max: number, message: string): number {
  if (text === undefined || !/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new IpvsadmSyntaxError(message);
  return Number(text);
}

function parseFlags(text: string, scheduler: string): string[] {
  if (!text) return [];
  const out = text
    .split(',')
    .filter(Boolean)
    .map((f) => {
      const g = /^flag-(\d)$/.exec(f);
      return g ? (GENERIC_FLAGS[scheduler]?.[Number(g[1]) - 1] ?? f) : f;
    });
  return [...new Set(out)].sort();
}

/** Parses one rule line (`-Sn` output or a restore line) into an operation; throws IpvsadmSyntaxError. */
export function parseLine(line: string): IpvsOp {
  const trimmed = line.trim();
  const words = trimmed ? trimmed.split(/\s+/) : [];
  const op = COMMANDS[words[0]];
  if (!op) throw new IpvsadmSyntaxError(words.length ? `unknown command "${words[0]}"` : 'empty line');
  const o = new Map<string, string>();
  for (let i = 1; i < words.length; i++) {
    const w = SPELLINGS.get(words[i]) ?? words[i];
    if (!KNOWN.has(w)) throw new IpvsadmSyntaxError(`unknown option "${words[i]}"`);
    if (!ALLOWED[op].has(w)) throw new IpvsadmSyntaxError(`option ${w} does not belong in a ${words[0]} line`);
    if (o.has(w)) throw new IpvsadmSyntaxError(`option ${w} given twice`);
    let value = '';
    if (TAKES_VALUE.has(w)) {
      if (words[i + 1] === undefined) throw new IpvsadmSyntaxError(`option ${w} needs a value`);
      value = words[++i];
    }
    o.set(w, value);
  }

  const ident = IDENT.filter((k) => o.has(k));
  if (ident.length !== 1) throw new IpvsadmSyntaxError('exactly one of -t, -u, --sctp-service, -f is needed');
  const service: IpvsService = {
    protocol: 'tcp',
    address: null,
    port: 0,
    fwmark: 0,
    scheduler: o.get('-s') ?? 'wlc',
    flags: [],
    persistence: null,
    onePacket: false,
  };
  if (ident[0] === '-f') {
    service.fwmark = uint(o.get('-f'), 1, 4294967295, '-f: fwmark must be at least 1');
    if (o.has('-6')) service.family = 6;
  } else {
    if (o.has('-6')) throw new IpvsadmSyntaxError('-6 is for fwmark services; an address service has the family of its address');
    Object.assign(service, { protocol: SWITCH_PROTO[ident[0]] }, parseEndpoint(o.get(ident[0])!, 'virtual service'));
    if (service.address!.includes(':')) service.family = 6;
  }
  const v6 = service.family === 6;
  if (o.has('-p'))
    service.persistence = { timeoutS: uint(o.get('-p'), 1, 2678400, 'illegal timeout for persistent service'), netmask: v6 ? '128' : '255.255.255.255' };
  if (o.has('-M')) {
    const mask = o.get('-M')!;
    if (v6 ? !/^([1-9]\d?|1[01]\d|12[0-8])$/.test(mask) : !IPV4.test(mask))
      throw new IpvsadmSyntaxError(`-M expects ${v6 ? 'a prefix length from 1 to 128 for an IPv6 service' : 'a netmask'}, not "${mask}"`);
    if (!service.persistence) throw new IpvsadmSyntaxError('-M is the persistence netmask: it needs -p');
    service.persistence.netmask = mask;
  }
  service.onePacket = o.has('-o');
  service.flags = parseFlags(o.get('-b') ?? '', service.scheduler);
  if (op === 'add-service' || op === 'edit-service' || op === 'delete-service') return { op, service };

  const rs = o.get('-r');
  if (rs === undefined) throw new IpvsadmSyntaxError(`${words[0]} needs -r SERVER:PORT`);
  const fwd = ['-g', '-m', '-i'].filter((k) => o.has(k));
  if (fwd.length > 1) throw new IpvsadmSyntaxError('give one of -g, -m, -i');
  // Built field by field: a spread of parseEndpoint's result here was half the time of reading a
  // 1,000-server `-Sn` table (V8's object spread takes a generic path), which a director does every pass.
  const at = parseEndpoint(rs, 'real server');
  const dest: IpvsDest = {
    address: at.address,
    port: at.port,
    forwarding: fwd.length ? SWITCH_FWD[fwd[0]] : 'dr', // ipvsadm's default is -g
    weight: o.has('-w') ? uint(o.get('-w'), 0, 65535, 'illegal weight specified') : 1,
    upperThreshold: o.has('-x') ? uint(o.get('-x'), 0, 4294967295, 'illegal u_threshold specified') : 0,
    lowerThreshold: o.has('-y') ? uint(o.get('-y'), 0, 4294967295, 'illegal l_threshold specified') : 0,
  };
  return { op, service, dest };
}

function ident(s: IpvsService): string {
  if (s.fwmark > 0) return s.family === 6 ? `-f ${s.fwmark} -6` : `-f ${s.fwmark}`;
  return `${PROTO_SWITCH[s.protocol]} ${formatHostPort(s.address!, s.port)}`;
}

/** ipvsadm leaves out the netmask of one client address: 255.255.255.255, or 128 for IPv6. */
const fullMask = (s: IpvsService): string => (s.family === 6 ? '128' : '255.255.255.255');

function serviceArgs(s: IpvsService): string {
  let line = `${ident(s)} -s ${s.scheduler}`;
  if (s.persistence) {
    line += ` -p ${s.persistence.timeoutS}`;
    if (s.persistence.netmask !== fullMask(s)) line += ` -M ${s.persistence.netmask}`;
  }
  if (s.onePacket) line += ' -o';
  if (s.flags.length) line += ` -b ${s.flags.join(',')}`;
  return line;
}

function destArgs(s: IpvsService, d: IpvsDest): string {
  let line = `${ident(s)} -r ${formatHostPort(d.address, d.port)} ${FWD_SWITCH[d.forwarding]} -w ${d.weight}`;
  if (d.upperThreshold) line += ` -x ${d.upperThreshold}`;
  if (d.lowerThreshold) line += ` -y ${d.lowerThreshold}`;
  return line;
}

/** One `ipvsadm -R` line for an operation. */
export function renderOp(op: IpvsOp): string {
  const cmd = COMMAND_OF[op.op];
  switch (op.op) {
    case 'add-service':
    case 'edit-service':
      return `${cmd} ${serviceArgs(op.service)}`;
    case 'delete-service':
      return `${cmd} ${ident(op.service)}`;
    case 'add-dest':
    case 'edit-dest':
      return `${cmd} ${destArgs(op.service, op.dest)}`;
    case 'delete-dest':
      return `${cmd} ${ident(op.service)} -r ${formatHostPort(op.dest.address, op.dest.port)}`;
  }
}

/** The whole batch fed to one `ipvsadm -R` process (never the ipvsadm-restore wrapper: Debian's flushes first). */
export function renderBatch(ops: IpvsOp[]): string {
  return ops.map((o) => renderOp(o) + '\n').join('');
}

/** Parses `ipvsadm -Sn` output: `-A` lines open a service, `-a` lines add to it. */
export function parseSave(text: string): IpvsTable {
  const table = new SaveTable();
  for (const raw of text.split('\n')) table.add(raw);
  return table.services;
}

/**
 * `parseSave`, awaiting `between()` whenever a run of lines has taken `stepMs`. A 10,000-real-server
 * director's table is about 18 ms of parsing, at every pass: in steps, the agent's timers (VRRP
 * adverts, BFD transmissions) run between them. The same reader, so the same table and the same
 * errors.
 */
export async function parseSaveInSteps(text: string, between: () => Promise<void>, stepMs = 8): Promise<IpvsTable> {
  const table = new SaveTable();
  await eachLineInSteps(text, (raw) => table.add(raw), between, stepMs);
  return table.services;
}

/** The table `-Sn` lines build, a line at a time. */
class SaveTable {
  readonly services: IpvsTable = [];
  private readonly byKey = new Map<string, IpvsTable[number]>();
  // -Sn prints each service's destinations right after it: most lines belong to the last service,
  // told by its fields without building its key.
  private last: IpvsTable[number] | null = null;

  add(raw: string): void {
    if (this.addPlainDest(raw)) return;
    if (!raw.trim() || raw.startsWith('#')) return;
    let op: IpvsOp;
    try {
      op = parseLine(raw);
    } catch (e) {
      throw new IpvsadmSyntaxError(`${(e as Error).message} in "${raw}"`);
    }
    if (op.op === 'add-service') {
      // parseLine's objects are new: the service becomes the table's entry as it is.
      const s = op.service as IpvsTable[number];
      s.dests = [];
      this.services.push(s);
      this.byKey.set(serviceKey(s), s);
      this.last = s;
    } else if (op.op === 'add-dest') {
      const s = this.last && sameServiceKey(this.last, op.service) ? this.last : this.byKey.get(serviceKey(op.service));
      if (!s) throw new IpvsadmSyntaxError(`real server before its service: "${raw}"`);
      s.dests.push(op.dest);
    } else throw new IpvsadmSyntaxError(`unexpected line in ipvsadm -S output: "${raw}"`);
  }

  /**
   * The line -Sn prints for nearly every destination of a large table, read without parseLine: an
   * IPv4 real server of the IPv4 TCP or UDP service just printed, no thresholds. parseLine's general
   * path (words, an option map, a service object per line) was 2.5-2.9 ms of every pass over a
   * 1,000-real-server director's table on the slower test machines. The checks are parseLine's
   * (the address as IPV4 takes it, port and weight in range); any other line, or one these refuse,
   * goes through parseLine, which reads it or names what is wrong. Answers whether it took the line.
   */
  private addPlainDest(raw: string): boolean {
    const s = this.last;
    if (s === null) return false;
    const m = PLAIN_DEST.exec(raw);
    if (m === null || s.protocol !== (m[1] === 't' ? 'tcp' : 'udp') || s.address !== m[2] || s.port !== Number(m[3])) return false;
    const port = Number(m[5]);
    const weight = Number(m[7]);
    if (port > 65535 || weight > 65535 || !IPV4.test(m[4])) return false;
    s.dests.push({ address: m[4], port, forwarding: SWITCH_FWD[`-${m[6]}`], weight, upperThreshold: 0, lowerThreshold: 0 });
    return true;
  }
}

/** `-a -t|-u VIP:PORT -r RIP:PORT -g|-m|-i -w W`, IPv4 on both sides: see SaveTable.addPlainDest. */
const PLAIN_DEST = /^-a -([tu]) (\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5}) -r (\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5}) -([gmi]) -w (\d{1,5})$/;

/** Renders a table the way `ipvsadm -Sn` prints it: each service, then its destinations. */
export function renderSave(table: IpvsTable): string {
  const lines: string[] = [];
  for (const s of table) {
    const { dests, ...service } = s;
    lines.push(renderOp({ op: 'add-service', service }));
    for (const dest of dests) lines.push(renderOp({ op: 'add-dest', service, dest }));
  }
  return lines.map((l) => l + '\n').join('');
}
