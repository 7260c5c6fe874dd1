/**
 * Failover benchmark (root, netns): keepalived pair vs our pair, crash and graceful stop (SIGTERM to
 * the master's main process), VRRPv3 at 100 ms and 30 ms adverts by default; median and p95 of N
 * runs of the client's longest ping gap, and for our agents the breakdown from their timing marks
 * (LVSFLEET_DEBUG_TIMING=1): resigning side signal → BFD AdminDown → priority 0 sent → VIP removed,
 * taking-over side detect → state → VIP added → first GARP → first client reply. Then a soak at
 * 30 ms adverts with both cores busy, counting spurious transitions.
 *   npm run bench:failover -- [--runs 10] [--quick] [--timers 100,30] [--pairs keepalived,ours,ours-vrrp]
 *     [--soak-seconds 600] [--skip-failover] [--skip-soak] [--soak-impl ours|keepalived]
 *   (LVSFLEET_LAB_RUNNER=vrrp LVSFLEET_LAB_NICE=-10: VRRP alone, reniced)
 * Pairs: `keepalived` (no BFD, keepalived's default), `ours` (as shipped: the default BFD pair
 * session, 50 ms × 5), `ours-vrrp` (spec.bfdDefault false: VRRP alone, like for like with
 * keepalived), `mixed` (keepalived master → our backup) and `mixed-rev`; over IPv6 (one VRRPv3
 * group, link-local sources, the client pinging an IPv6 VIP, unsolicited Neighbor Advertisements
 * instead of GARP): `keepalived6`, `ours6` (VRRP alone), `mixed6`, `mixed6-rev`, each compared with
 * `keepalived6` of the same run. `--netns-prefix P` names the namespaces P + 6 hex digits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { NetnsLab, netnsUnavailable } from '../lab/netns.ts';
import { holdsVip, startPair, waitFor, type Impl } from '../lab/pair.ts';
import { backupReady, failoverBoundMs, runFailover, type FailoverResult } from '../lab/scenario.ts';
import { breakdownOf, BREAKDOWN_COLUMNS, type Breakdown } from './failover-breakdown.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    /** Two runs per case and no soak: checks that the bench works. */
    quick: { type: 'boolean', default: false },
    timers: { type: 'string', default: '100,30' },
    pairs: { type: 'string', default: 'keepalived,ours,ours-vrrp' },
    'soak-seconds': { type: 'string', default: '600' },
    'skip-failover': { type: 'boolean', default: false },
    'skip-soak': { type: 'boolean', default: false },
    /** Soak a keepalived pair instead (the reference figure on the same machine and load). */
    'soak-impl': { type: 'string', default: 'ours' },
    'netns-prefix': { type: 'string', default: 'lvf' },
  },
});
const skip = netnsUnavailable(['keepalived', 'ping', 'arping']);
if (skip) {
  console.log(`bench:failover skipped: ${skip}`);
  process.exit(0);
}

interface PairCase {
  key: string;
  label: string;
  d1: Impl;
  d2: Impl;
  /** PairSpec.bfd: undefined = each side's default (ours: the pair session), false = none. */
  bfd?: false;
  /** One VRRPv3 group over IPv6 (VRRP alone on our side). */
  ipv6?: true;
}
const PAIRS: PairCase[] = [
  { key: 'keepalived', label: 'keepalived pair', d1: 'keepalived', d2: 'keepalived' },
  { key: 'ours', label: 'our pair (default BFD)', d1: 'ours', d2: 'ours' },
  { key: 'ours-vrrp', label: 'our pair (VRRP only)', d1: 'ours', d2: 'ours', bfd: false },
  { key: 'mixed', label: 'keepalived→ours', d1: 'keepalived', d2: 'ours', bfd: false },
  { key: 'mixed-rev', label: 'ours→keepalived', d1: 'ours', d2: 'keepalived', bfd: false },
  { key: 'keepalived6', label: 'IPv6 keepalived pair', d1: 'keepalived', d2: 'keepalived', ipv6: true },
  { key: 'ours6', label: 'IPv6 our pair (VRRP only)', d1: 'ours', d2: 'ours', ipv6: true },
  { key: 'mixed6', label: 'IPv6 keepalived→ours', d1: 'keepalived', d2: 'ours', ipv6: true },
  { key: 'mixed6-rev', label: 'IPv6 ours→keepalived', d1: 'ours', d2: 'keepalived', ipv6: true },
];
/** The keepalived pair a pair's medians are compared with: the same address family. */
const referenceOf = (p: PairCase) => (p.ipv6 ? 'keepalived6' : 'keepalived');
const prefix = values['netns-prefix'];
if (!/^[a-z][a-z0-9]{0,5}$/.test(prefix)) usage(`--netns-prefix: expected 1-6 lower-case letters and digits, got "${prefix}"`);
const labOptions = () => ({ prefix: `${prefix}${randomBytes(3).toString('hex')}` });

function usage(msg: string): never {
  console.error(`bench:failover: ${msg}`);
  process.exit(2);
}
const runs = values.quick ? 2 : Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) usage(`--runs: expected a positive integer, got "${values.runs}"`);
const pairs = values.pairs
  .split(',')
  .map((k) => PAIRS.find((p) => p.key === k) ?? usage(`--pairs: unknown pair "${k}" (have ${PAIRS.map((p) => p.key).join(', ')})`));
const timers = values.timers.split(',').map((t) => {
  const ms = Number(t);
  if (!Number.isInteger(ms) || ms < 10 || ms > 1000) usage(`--timers: expected advert intervals in ms (10–1000), got "${t}"`);
  // VRRPv3 for sub-second adverts; 1 s is keepalived's default advert_int, VRRPv2.
  return ms === 1000 ? { label: 'VRRPv2 1 s', version: 2 as const, advertMs: ms } : { label: `VRRPv3 ${ms} ms`, version: 3 as const, advertMs: ms };
});

/** Quantile by linear interpolation between closest ranks (numpy's default); with 10 runs p95 lies between the two slowest. */
function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
}
const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '—');
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

function table(rows: string[][]): string {
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => '| ' + r.map((x, c) => x.padEnd(w[c])).join(' | ') + ' |').join('\n');
}

if (!values['skip-failover']) {
  console.log(`failover: client's longest ping gap (10 ms pings), ${runs} runs per case, ms; load average at start ${load()}`);
  const gapRows: string[][] = [['timers', 'case', 'pair', 'runs ok', 'median', 'p95', 'min', 'max', 'bound']];
  const bdRows: string[][] = [['timers', 'case', 'pair', ...BREAKDOWN_COLUMNS.map((c) => c.label)]];
  const medians = new Map<string, number>();
  for (const t of timers)
    for (const kind of ['crash', 'graceful'] as const)
      for (const p of pairs) {
        // VRRPv2 exists over IPv4 only.
        if (p.ipv6 && t.version !== 3) continue;
        const gaps: number[] = [];
        const bds: Breakdown[] = [];
        for (let i = 0; i < runs; i++) {
          let r: FailoverResult;
          try {
            r = await runFailover({
              d1: p.d1,
              d2: p.d2,
              version: t.version,
              advertMs: t.advertMs,
              kind,
              bfd: p.bfd,
              timing: true,
              ipv6: p.ipv6,
              lab: labOptions(),
            });
          } catch (e) {
            console.log(`  ${t.label} ${kind} ${p.label} run ${i + 1} failed: ${(e as Error).message.split('\n')[0]}`);
            continue;
          }
          gaps.push(r.gapMs);
          const bd = breakdownOf(r);
          bds.push(bd);
          const parts = BREAKDOWN_COLUMNS.map((c) => `${c.key} ${fmt(bd[c.key])}`).join(', ');
          console.log(`  ${t.label} ${kind} ${p.label} run ${i + 1}: gap ${r.gapMs} ms; from the ${kind === 'crash' ? 'crash' : 'signal'}: ${parts}`);
        }
        const bound = failoverBoundMs({ ...t, kind });
        medians.set(`${t.label}|${kind}|${p.key}`, quantile(gaps, 0.5));
        gapRows.push([
          t.label,
          kind,
          p.label,
          `${gaps.length}/${runs}`,
          fmt(quantile(gaps, 0.5)),
          fmt(quantile(gaps, 0.95)),
          fmt(Math.min(...gaps)),
          fmt(Math.max(...gaps)),
          String(bound),
        ]);
        bdRows.push([t.label, kind, p.label, ...BREAKDOWN_COLUMNS.map((c) => fmt(quantile(bds.map((b) => b[c.key]).filter(Number.isFinite), 0.5)))]);
      }
  console.log(`\nclient gap, ms (load average now ${load()}):\n${table(gapRows)}`);
  const compared = pairs.filter((p) => p.key !== referenceOf(p) && pairs.some((r) => r.key === referenceOf(p)));
  const ratios = [['timers', 'case', ...compared.map((p) => `${p.label} / ${referenceOf(p)} (median)`)]];
  for (const t of timers)
    for (const kind of ['crash', 'graceful'] as const)
      ratios.push([
        t.label,
        kind,
        ...compared.map((p) => {
          const ka = medians.get(`${t.label}|${kind}|${referenceOf(p)}`);
          const ours = medians.get(`${t.label}|${kind}|${p.key}`);
          return ka !== undefined && ours !== undefined ? (ours / ka).toFixed(2) : '—';
        }),
      ]);
  if (ratios.length > 1) console.log(`\n${table(ratios)}`);
  console.log(
    `\nbreakdown, median ms after the crash (SIGSTOP) or the SIGTERM; resigning side from our d1's marks, taking over from our d2's, replies from the client around its longest gap, which under load can be a scheduling pause rather than the failover when the failover's gap is shorter (— = not ours or not on this path):\n${table(bdRows)}`,
  );
}

if (!values['skip-soak'] && !values.quick) {
  const seconds = Number(values['soak-seconds']);
  const impl = values['soak-impl'] === 'keepalived' ? 'keepalived' : 'ours';
  console.log(`\nsoak: ${impl} pair, VRRPv3 30 ms adverts, both cores busy, ${seconds} s`);
  const lab = new NetnsLab(undefined, labOptions());
  const burners: ChildProcess[] = [];
  try {
    const pair = await startPair({ d1: impl, d2: impl }, { version: 3, advertMs: 30 }, lab);
    await waitFor(
      async () => backupReady(pair.out.d2) && (await holdsVip(lab, 'd1', pair.vip)) && !(await holdsVip(lab, 'd2', pair.vip)),
      20_000,
      'settled pair',
    );
    await new Promise((r) => setTimeout(r, 500));
    const transitions = (out: string[]) => out.filter((l) => /vrrp VI_1 \w+→\w+|\(VI_1\) Entering \w+ STATE/.test(l)).length;
    const before = { d1: transitions(pair.out.d1), d2: transitions(pair.out.d2) };
    // One busy loop per core, started and killed by us.
    for (let i = 0; i < 2; i++) burners.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    for (const b of burners) b.kill('SIGKILL');
    const after = { d1: transitions(pair.out.d1), d2: transitions(pair.out.d2) };
    const spurious = after.d1 - before.d1 + (after.d2 - before.d2);
    console.log(`soak ${Math.round((Date.now() - t0) / 1000)} s: spurious transitions ${spurious} (target 0)`);
    if (spurious) console.log([...pair.out.d1, ...pair.out.d2].filter((l) => /→|Entering|late|drops/.test(l)).join('\n'));
    console.log(`final: d1 VIP ${await holdsVip(lab, 'd1', pair.vip)}, d2 VIP ${await holdsVip(lab, 'd2', pair.vip)}`);
  } finally {
    for (const b of burners) b.kill('SIGKILL');
    await lab.destroy();
  }
}
