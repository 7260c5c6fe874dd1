/**
 * Failover benchmark (root, netns): keepalived pair vs our pair vs mixed, VRRPv2 1 s, VRRPv3
 * 100 ms and 30 ms, crash and graceful stop; median of N runs of the client's longest ping gap,
 * and the ratio ours/keepalived. Then a soak at 30 ms adverts with both cores busy, counting
 * spurious transitions.
 *   npm run bench:failover -- [--runs 5] [--soak-seconds 600] [--skip-failover] [--skip-soak]
 *     [--soak-impl ours|keepalived]   (LVSFLEET_LAB_RUNNER=vrrp LVSFLEET_LAB_NICE=-10: VRRP alone, reniced)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { NetnsLab, netnsUnavailable } from '../lab/netns.ts';
import { holdsVip, startPair, waitFor, type Impl } from '../lab/pair.ts';
import { backupReady, failoverBoundMs, runFailover } from '../lab/scenario.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'soak-seconds': { type: 'string', default: '600' },
    'skip-failover': { type: 'boolean', default: false },
    'skip-soak': { type: 'boolean', default: false },
    /** Soak a keepalived pair instead (the reference figure on the same machine and load). */
    'soak-impl': { type: 'string', default: 'ours' },
  },
});
const skip = netnsUnavailable(['keepalived', 'ping', 'arping']);
if (skip) {
  console.log(`bench:failover skipped: ${skip}`);
  process.exit(0);
}
const runs = Number(values.runs);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const pairs: { label: string; d1: Impl; d2: Impl }[] = [
  { label: 'keepalived pair', d1: 'keepalived', d2: 'keepalived' },
  { label: 'our pair', d1: 'ours', d2: 'ours' },
  { label: 'mixed keepalived→ours', d1: 'keepalived', d2: 'ours' },
  { label: 'mixed ours→keepalived', d1: 'ours', d2: 'keepalived' },
];
const timers = [
  { label: 'VRRPv2 1 s', version: 2 as const, advertMs: 1000 },
  { label: 'VRRPv3 100 ms', version: 3 as const, advertMs: 100 },
  { label: 'VRRPv3 30 ms', version: 3 as const, advertMs: 30 },
];

if (!values['skip-failover']) {
  console.log(`failover: client's longest ping gap (10 ms pings), median of ${runs} runs, ms`);
  const rows: string[][] = [['timers', 'case', ...pairs.map((p) => p.label), 'ours/keepalived', 'bound']];
  for (const t of timers)
    for (const kind of ['crash', 'graceful'] as const) {
      const medians: number[] = [];
      for (const p of pairs) {
        const gaps: number[] = [];
        for (let i = 0; i < runs; i++) {
          try {
            gaps.push((await runFailover({ d1: p.d1, d2: p.d2, version: t.version, advertMs: t.advertMs, kind })).gapMs);
          } catch (e) {
            console.log(`  ${t.label} ${kind} ${p.label} run ${i + 1} failed: ${(e as Error).message.split('\n')[0]}`);
          }
        }
        medians.push(gaps.length ? median(gaps) : NaN);
        console.log(`  ${t.label} ${kind} ${p.label}: ${gaps.join(', ')} → median ${medians.at(-1)}`);
      }
      rows.push([t.label, kind, ...medians.map(String), (medians[1] / medians[0]).toFixed(2), String(failoverBoundMs({ ...t, kind }))]);
    }
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  console.log('\n' + rows.map((r) => '| ' + r.map((x, c) => x.padEnd(w[c])).join(' | ') + ' |').join('\n'));
}

if (!values['skip-soak']) {
  const seconds = Number(values['soak-seconds']);
  const impl = values['soak-impl'] === 'keepalived' ? 'keepalived' : 'ours';
  console.log(`\nsoak: ${impl} pair, VRRPv3 30 ms adverts, both cores busy, ${seconds} s`);
  const lab = new NetnsLab();
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
