import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NetnsLab } from './netns.ts';

export interface PairSpec {
  version: 2 | 3;
  advertMs: number;
  vrid: number;
  vip: string;
  /** keepalived `notify`-style track script for the master, if any. */
  trackScript?: { name: string; command: string; weight: number; intervalMs: number };
  preempt?: boolean;
  /**
   * BFD between the two directors. Absent: our pair runs the spec's default pair session and
   * keepalived none (each side's out-of-the-box behaviour); false: no BFD on either side; a session:
   * keepalived `bfd_instance` + `track_bfd` with the weight on both, and the same session and
   * trackBfd in our spec.
   */
  bfd?: false | PairBfd;
}

export interface PairBfd {
  name: string;
  intervalMs: number;
  multiplier: number;
  /** track_bfd weight (non-zero: a weight moves the priority; 0 would fault the backup exactly when the master dies). */
  trackWeight: number;
}

/** The addresses of the two directors, for keepalived's bfd_instance. */
export type PairAddresses = Record<'d1' | 'd2', string>;

/** keepalived.conf equivalent to one member of our generated spec (same timers, auth, VIP). */
export function keepalivedConf(name: string, p: PairSpec, priority: number, master: boolean, addresses?: PairAddresses): string {
  const bfd = p.bfd && addresses ? p.bfd : null;
  const other = name === 'd1' ? 'd2' : 'd1';
  const bfdBlock = bfd
    ? `bfd_instance ${bfd.name} {\n  neighbor_ip ${addresses![other]}\n  source_ip ${addresses![name as 'd1' | 'd2']}\n  min_rx ${bfd.intervalMs}\n  min_tx ${bfd.intervalMs}\n  multiplier ${bfd.multiplier}\n}\n`
    : '';
  const adv = p.version === 2 ? String(p.advertMs / 1000) : (p.advertMs / 1000).toFixed(2);
  const track = p.trackScript
    ? `vrrp_script ${p.trackScript.name} {\n  script "${p.trackScript.command}"\n  interval ${Math.max(1, p.trackScript.intervalMs / 1000)}\n  weight ${p.trackScript.weight}\n  rise 1\n  fall 1\n}\n`
    : '';
  return `global_defs {
  router_id ${name}
  script_user root
}
${bfdBlock}${track}vrrp_instance VI_1 {
  state ${master ? 'MASTER' : 'BACKUP'}
  interface eth0
  virtual_router_id ${p.vrid}
  priority ${priority}
  advert_int ${adv}
  version ${p.version}
${p.version === 2 ? '  authentication {\n    auth_type PASS\n    auth_pass 1111\n  }\n' : ''}${p.preempt === false ? '  nopreempt\n' : ''}  virtual_ipaddress {
    ${p.vip}/32 dev eth0
  }
${p.trackScript ? `  track_script {\n    ${p.trackScript.name}\n  }\n` : ''}${bfd ? `  track_bfd {\n    ${bfd.name} weight ${bfd.trackWeight}\n  }\n` : ''}}
`;
}

/** Starts keepalived in the host's namespace with every file in the lab's temp dir (LABS.md recipe). */
export function startKeepalived(lab: NetnsLab, host: string, conf: string) {
  const d = (f: string) => join(lab.dir, `${host}-${f}`);
  writeFileSync(d('keepalived.conf'), conf);
  return lab.spawn(host, [
    'keepalived',
    '-P',
    '-n',
    '-l',
    '-D',
    '-G',
    '-f',
    d('keepalived.conf'),
    '-i',
    host,
    '-p',
    d('k.pid'),
    '-r',
    d('vrrp.pid'),
    '-c',
    d('chk.pid'),
    '-b',
    d('bfd.pid'),
  ]);
}

/** Our site spec for the same pair: d1 and d2 on the lab segment. */
export function siteSpec(lab: NetnsLab, p: PairSpec, prio: { d1: number; d2: number }, masterNode: 'd1' | 'd2'): string {
  const spec = {
    apiVersion: 'lvsfleet/v1',
    kind: 'Site',
    metadata: { name: 'lab' },
    spec: {
      nodes: ['d1', 'd2'].map((n) => ({ name: n, role: 'director', address: lab.host(n).address, interface: 'eth0' })),
      ...(p.bfd === false ? { bfdDefault: false } : {}),
      ...(p.bfd
        ? { bfd: [{ name: p.bfd.name, between: ['d1', 'd2'], minRx: `${p.bfd.intervalMs}ms`, minTx: `${p.bfd.intervalMs}ms`, multiplier: p.bfd.multiplier }] }
        : {}),
      ...(p.trackScript
        ? {
            vrrpScripts: [{ name: p.trackScript.name, script: p.trackScript.command, interval: `${p.trackScript.intervalMs}ms`, weight: p.trackScript.weight }],
          }
        : {}),
      vrrp: [
        {
          name: 'VI_1',
          vrid: p.vrid,
          version: p.version,
          advertInterval: `${p.advertMs}ms`,
          ...(p.version === 2 ? { auth: { type: 'PASS', password: '1111' } } : {}),
          preempt: p.preempt ?? true,
          vips: [`${p.vip}/32`],
          members: (['d1', 'd2'] as const).map((n) => ({ node: n, priority: prio[n], initialState: n === masterNode ? 'MASTER' : 'BACKUP' })),
          ...(p.trackScript ? { trackScripts: [{ script: p.trackScript.name }] } : {}),
          ...(p.bfd ? { trackBfd: [{ name: p.bfd.name, weight: p.bfd.trackWeight }] } : {}),
        },
      ],
    },
  };
  return JSON.stringify(spec, null, 2);
}
