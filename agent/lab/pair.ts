import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { keepalivedConf, siteSpec, startKeepalived, type PairSpec } from './keepalived.ts';
import { NetnsLab } from './netns.ts';

export type Impl = 'ours' | 'keepalived';
const ROOT = resolve(import.meta.dirname, '../..');

/** Process output, whole lines (readline: a pipe's chunk may end mid-line); `onLine` sees each as it completes. */
export function capture(p: ChildProcess, into: string[], onLine?: (line: string) => void): ChildProcess {
  for (const input of [p.stdout, p.stderr]) {
    if (!input) continue;
    createInterface({ input, crlfDelay: Infinity }).on('line', (line) => {
      if (!line) return;
      into.push(line);
      onLine?.(line);
    });
  }
  return p;
}

/**
 * Starts our side for `node` in its namespace from a generated site spec: the real agent,
 * `lvsfleet-agent run --spec FILE --node NAME --state-dir DIR` (standalone mode). Setting
 * LVSFLEET_LAB_RUNNER=vrrp uses `agent/lab/vrrp-runner.ts` instead (VRRP alone, same engine;
 * LVSFLEET_LAB_NICE=N passes keepalived's vrrp_priority equivalent to it).
 */
export function startOurs(lab: NetnsLab, node: 'd1' | 'd2', spec: string, out: string[], o: { env?: NodeJS.ProcessEnv; args?: string[] } = {}): ChildProcess {
  const file = join(lab.dir, `${node}-site.json`);
  writeFileSync(file, spec);
  const stateDir = join(lab.dir, `${node}-state`);
  mkdirSync(stateDir, { recursive: true });
  const cmd =
    process.env.LVSFLEET_LAB_RUNNER === 'vrrp'
      ? [
          process.execPath,
          '--import',
          'tsx',
          join(ROOT, 'agent/lab/vrrp-runner.ts'),
          '--spec',
          file,
          '--node',
          node,
          ...(process.env.LVSFLEET_LAB_NICE ? [`--nice=${process.env.LVSFLEET_LAB_NICE}`] : []),
        ]
      : [process.execPath, join(ROOT, 'bin/lvsfleet-agent.mjs'), 'run', '--spec', file, '--node', node, '--state-dir', stateDir, ...(o.args ?? [])];
  return capture(lab.spawn(node, cmd, { ...(o.env ?? process.env), NODE_NO_WARNINGS: '1' }), out);
}

/** Does the host hold the VIP (IPv4 or IPv6) on eth0? */
export async function holdsVip(lab: NetnsLab, node: string, vip: string): Promise<boolean> {
  const out = await lab.exec(node, ['ip', vip.includes(':') ? '-6' : '-4', '-o', 'addr', 'show', 'dev', 'eth0']).catch(() => '');
  return out.includes(` ${vip}/`);
}

export async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface Pair {
  lab: NetnsLab;
  vip: string;
  out: Record<'d1' | 'd2', string[]>;
  procs: Record<'d1' | 'd2', ChildProcess>;
}

/**
 * Two directors on a fresh segment plus a client: d1 (priority 150, state MASTER) and d2
 * (priority 100), each run by our engine or keepalived with equivalent settings. `env` is our
 * agents' environment (e.g. a PATH without arping).
 */
export async function startPair(
  impl: Record<'d1' | 'd2', Impl>,
  p: Omit<PairSpec, 'vip' | 'vrid'>,
  lab = new NetnsLab(),
  o: {
    env?: NodeJS.ProcessEnv;
    /** Extra `lvsfleet-agent run` flags for our side, per node. */
    ourArgs?: (node: 'd1' | 'd2') => string[];
  } = {},
): Promise<Pair> {
  if (!lab.hosts.size)
    await lab.setup([
      { name: 'd1', host: 11 },
      { name: 'd2', host: 12 },
      { name: 'client', host: 100 },
    ]);
  const vip = `${lab.subnet}.50`;
  const full: PairSpec = { ...p, vip, vrid: 51 };
  const prio = { d1: 150, d2: 100 };
  const spec = siteSpec(lab, full, prio, 'd1');
  const out = { d1: [] as string[], d2: [] as string[] };
  const start = (n: 'd1' | 'd2') =>
    impl[n] === 'ours'
      ? startOurs(lab, n, spec, out[n], { env: o.env, args: o.ourArgs?.(n) })
      : capture(startKeepalived(lab, n, keepalivedConf(n, full, prio[n], n === 'd1', { d1: lab.host('d1').address, d2: lab.host('d2').address })), out[n]);
  // The backup first, so the master's election is observed by a running peer.
  const d2 = start('d2');
  const d1 = start('d1');
  return { lab, vip, out, procs: { d1, d2 } };
}
