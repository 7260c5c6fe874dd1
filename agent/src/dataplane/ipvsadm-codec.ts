import { AgentError } from '../errors.ts';
import type { IpvsDest, IpvsForwarding, IpvsOp, IpvsProtocol, IpvsService, IpvsTable } from './ipvs-types.ts';
import { serviceKey } from './ipvs-types.ts';

/**
 * The ipvsadm rule-line codec: `ipvsadm -Sn` output in, `ipvsadm -R` lines out. Both use
 * the same grammar (ipvsadm(8) "-A -t VIP:PORT -s SCHED [-p T [-M MASK]] [-o] [-b FLAGS]",
 * "-a -t VIP:PORT -r RIP:PORT -g|-m|-i -w W [-x U] [-y L]").
 */
const PROTO_SWITCH: Record<IpvsProtocol, string> = { tcp: '-t', udp: '-u', sctp: '--sctp-service' };
const SWITCH_PROTO: Record<string, IpvsProtocol> = { '-t': 'tcp', '--tcp-service': 'tcp', '-u': 'udp', '--udp-service': 'udp', '--sctp-service': 'sctp' };
const FWD_SWITCH: Record<IpvsForwarding, string> = { dr: '-g', nat: '-m', tun: '-i' };
const SWITCH_FWD: Record<string, IpvsForwarding> = { '-g': 'dr', '--gatewaying': 'dr', '-m': 'nat', '--masquerading': 'nat', '-i': 'tun', '--ipip': 'tun' };
/** ipvsadm prints scheduler flags as flag-1..3 in some versions; their meaning depends on the scheduler. */
const GENERIC_FLAGS: Record<string, string[]> = { sh: ['sh-fallback', 'sh-port'], mh: ['mh-fallback', 'mh-port'] };

function ident(s: IpvsService): string {
  return s.fwmark > 0 ? `-f ${s.fwmark}` : `${PROTO_SWITCH[s.protocol]} ${s.address}:${s.port}`;
}

function serviceArgs(s: IpvsService): string {
  let line = `${ident(s)} -s ${s.scheduler}`;
  if (s.persistence) {
    line += ` -p ${s.persistence.timeoutS}`;
    if (s.persistence.netmask !== '255.255.255.255') line += ` -M ${s.persistence.netmask}`;
  }
  if (s.onePacket) line += ' -o';
  if (s.flags.length) line += ` -b ${s.flags.join(',')}`;
  return line;
}

function destArgs(s: IpvsService, d: IpvsDest): string {
  let line = `${ident(s)} -r ${d.address}:${d.port} ${FWD_SWITCH[d.forwarding]} -w ${d.weight}`;
  if (d.upperThreshold) line += ` -x ${d.upperThreshold}`;
  if (d.lowerThreshold) line += ` -y ${d.lowerThreshold}`;
  return line;
}

/** One `ipvsadm -R` line for an operation. */
export function renderOp(op: IpvsOp): string {
  switch (op.op) {
    case 'add-service':
      return `-A ${serviceArgs(op.service)}`;
    case 'edit-service':
      return `-E ${serviceArgs(op.service)}`;
    case 'delete-service':
      return `-D ${ident(op.service)}`;
    case 'add-dest':
      return `-a ${destArgs(op.service, op.dest)}`;
    case 'edit-dest':
      return `-e ${destArgs(op.service, op.dest)}`;
    case 'delete-dest':
      return `-d ${ident(op.service)} -r ${op.dest.address}:${op.dest.port}`;
  }
}

/** The whole batch fed to one `ipvsadm -R` process (never the ipvsadm-restore wrapper: Debian's flushes first). */
export function renderBatch(ops: IpvsOp[]): string {
  return ops.map((o) => renderOp(o) + '\n').join('');
}

function hostPort(text: string, line: string): { address: string; port: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text);
  if (!m) throw new AgentError('IPVS_REJECTED', `bad address "${text}" in "${line}"`);
  return { address: m[1], port: Number(m[2]) };
}

function parseFlags(text: string, scheduler: string): string[] {
  const out = text
    .split(',')
    .filter(Boolean)
    .map((f) => {
      const g = /^flag-(\d)$/.exec(f);
      return g ? (GENERIC_FLAGS[scheduler]?.[Number(g[1]) - 1] ?? f) : f;
    });
  return [...new Set(out)].sort();
}

/** Parses one rule line (either `-Sn` output or a restore line) into an operation. */
export function parseLine(line: string): IpvsOp {
  const tok = line.trim().split(/\s+/);
  const cmd = tok[0];
  const svc: IpvsService = { protocol: 'tcp', address: null, port: 0, fwmark: 0, scheduler: 'wlc', flags: [], persistence: null, onePacket: false };
  let dest: IpvsDest | null = null;
  let flagsText = '';
  for (let i = 1; i < tok.length; i++) {
    const t = tok[i];
    const next = (): string => {
      const v = tok[++i];
      if (v === undefined) throw new AgentError('IPVS_REJECTED', `option ${t} needs a value in "${line}"`);
      return v;
    };
    if (t in SWITCH_PROTO) Object.assign(svc, { protocol: SWITCH_PROTO[t] }, hostPort(next(), line));
    else if (t === '-f' || t === '--fwmark-service') svc.fwmark = Number(next());
    else if (t === '-s' || t === '--scheduler') svc.scheduler = next();
    else if (t === '-p' || t === '--persistent') svc.persistence = { timeoutS: Number(next()), netmask: svc.persistence?.netmask ?? '255.255.255.255' };
    else if (t === '-M' || t === '--netmask') svc.persistence = { timeoutS: svc.persistence?.timeoutS ?? 300, netmask: next() };
    else if (t === '-o' || t === '--ops') svc.onePacket = true;
    else if (t === '-b' || t === '--sched-flags') flagsText = next();
    else if (t === '-r' || t === '--real-server') dest = { ...hostPort(next(), line), forwarding: 'dr', weight: 1, upperThreshold: 0, lowerThreshold: 0 };
    else if (t in SWITCH_FWD) (dest ??= { address: '', port: 0, forwarding: 'dr', weight: 1, upperThreshold: 0, lowerThreshold: 0 }).forwarding = SWITCH_FWD[t];
    else if (t === '-w' || t === '--weight') {
      const v = Number(next());
      if (dest) dest.weight = v;
    } else if (t === '-x' || t === '--u-threshold') {
      const v = Number(next());
      if (dest) dest.upperThreshold = v;
    } else if (t === '-y' || t === '--l-threshold') {
      const v = Number(next());
      if (dest) dest.lowerThreshold = v;
    } else if (t === '--pe' || t === '--tun-type' || t === '--tun-port')
      i++; // not managed by lvsfleet; kept out of the model
    else if (t === '--tun-nocsum' || t === '--tun-csum' || t === '--tun-remcsum') continue;
    else throw new AgentError('IPVS_REJECTED', `unknown option "${t}" in "${line}"`);
  }
  if (svc.fwmark > 0) svc.protocol = 'tcp';
  svc.flags = parseFlags(flagsText, svc.scheduler);
  const ops: Record<string, IpvsOp['op']> = {
    '-A': 'add-service',
    '-E': 'edit-service',
    '-D': 'delete-service',
    '-a': 'add-dest',
    '-e': 'edit-dest',
    '-d': 'delete-dest',
  };
  const op = ops[cmd];
  if (!op) throw new AgentError('IPVS_REJECTED', `unknown command "${cmd}" in "${line}"`);
  if (op.endsWith('-dest')) {
    if (!dest || !dest.address) throw new AgentError('IPVS_REJECTED', `missing -r in "${line}"`);
    return { op, service: svc, dest } as IpvsOp;
  }
  return { op, service: svc } as IpvsOp;
}

/** Parses `ipvsadm -Sn` output: `-A` lines open a service, `-a` lines add to it. */
export function parseSave(text: string): IpvsTable {
  const table: IpvsTable = [];
  const byKey = new Map<string, IpvsTable[number]>();
  for (const raw of text.split('\n')) {
    if (!raw.trim() || raw.startsWith('#')) continue;
    const op = parseLine(raw);
    if (op.op === 'add-service') {
      const s = { ...op.service, dests: [] };
      table.push(s);
      byKey.set(serviceKey(s), s);
    } else if (op.op === 'add-dest') {
      const s = byKey.get(serviceKey(op.service));
      if (!s) throw new AgentError('IPVS_REJECTED', `real server before its service: "${raw}"`);
      s.dests.push(op.dest);
    } else throw new AgentError('IPVS_REJECTED', `unexpected line in ipvsadm -S output: "${raw}"`);
  }
  return table;
}

/** Renders a table the way `ipvsadm -Sn` prints it. */
export function renderSave(table: IpvsTable): string {
  const lines: string[] = [];
  for (const s of table) {
    lines.push(renderOp({ op: 'add-service', service: s }));
    for (const d of s.dests) lines.push(renderOp({ op: 'add-dest', service: s, dest: d }));
  }
  return lines.map((l) => l + '\n').join('');
}
