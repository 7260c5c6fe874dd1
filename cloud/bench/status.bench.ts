/**
 * npm run bench:status — how long the cloud takes to evaluate the status of 1,000 sites of 4
 * nodes each (two directors sharing a VIP, two real servers behind one service), with the
 * previous evaluation passed in as in steady state. Prints the median of several full passes,
 * per pass and per site, beside a floor measured in the same run: JSON.parse of the same 4,000
 * reports, the least any evaluation from stored reports has to do. Then the same for one large
 * site (BENCH_BIG_NODES, default 10,000: bench:publish's site, two directors reporting every
 * service and real server, every real server reporting), which the alerter and every status page
 * of the site evaluate again and again. No assertions on time.
 */
import { validateSite } from '#shared/site/validate.ts';
import { bigSiteSpec } from './big-site.ts';
import type { Site } from '#shared/site/site.ts';
import { evaluateSite, type NodeInput } from '#shared/status/evaluate.ts';
import type { SiteStatus } from '#shared/status/model.ts';
import { seededRandom } from '#shared/util/random.ts';
import type { NodeStatus } from '#shared/wire/status.ts';

const SITES = Number(process.env.BENCH_SITES ?? 1000);
const RUNS = 9;
const WINDOW = 60_000;
const now = Date.parse('2026-11-30T02:00:00Z');
const rnd = seededRandom(7);

function siteSpec(i: number): Site {
  const v = validateSite({
    apiVersion: 'lvsfleet/v1',
    kind: 'Site',
    metadata: { name: `site-${i}` },
    spec: {
      nodes: [
        { name: 'dr1', role: 'director', address: '10.0.1.1', interface: 'eth0' },
        { name: 'dr2', role: 'director', address: '10.0.1.2', interface: 'eth0' },
        { name: 'rs1', role: 'realserver', address: '10.0.2.11' },
        { name: 'rs2', role: 'realserver', address: '10.0.2.12' },
      ],
      vrrp: [
        {
          name: 'VI_1',
          vrid: 51,
          vips: ['10.0.0.100/32'],
          members: [
            { node: 'dr1', priority: 100 },
            { node: 'dr2', priority: 90 },
          ],
        },
      ],
      services: [{ name: 'web', vip: '10.0.0.100', port: 80, healthCheck: { type: 'tcp', interval: '5s' }, realServers: [{ node: 'rs1' }, { node: 'rs2' }] }],
    },
  });
  if (!v.ok) throw new Error(JSON.stringify(v.issues));
  return v.site;
}

/** Mostly healthy sites; some with a check down, a split brain, a silent or departed director. */
function reports(i: number): Record<string, string> {
  const at = now - Math.floor(rnd() * 20_000);
  const roll = rnd();
  const director = (name: string, state: 'MASTER' | 'BACKUP'): NodeStatus => ({
    nodeId: `site-${i}.${name}`,
    online: !(roll < 0.02 && name === 'dr2'),
    at: new Date(at).toISOString(),
    site: `site-${i}`,
    node: name,
    appliedRevision: 3,
    pendingRevision: null,
    errors: [],
    vrrp: [{ instance: 'VI_1', vrid: 51, state, priority: 100, effectivePriority: 100, since: new Date(at - 3_600_000).toISOString() }],
    services: [
      {
        name: 'web',
        quorum: true,
        realServers: [
          { address: '10.0.2.11', port: 80, healthy: true, weight: 1, detail: 'tcp ok' },
          { address: '10.0.2.12', port: 80, healthy: !(roll > 0.9), weight: 1, detail: 'tcp ok' },
        ],
      },
    ],
    ipvs: { ok: true },
  });
  const rs = (name: string): NodeStatus => ({
    nodeId: `site-${i}.${name}`,
    online: true,
    at: new Date(at).toISOString(),
    appliedRevision: 3,
    realServer: { ok: true },
  });
  return {
    dr1: JSON.stringify(director('dr1', 'MASTER')),
    dr2: JSON.stringify(director('dr2', roll > 0.02 && roll < 0.04 ? 'MASTER' : 'BACKUP')),
    rs1: JSON.stringify(rs('rs1')),
    rs2: JSON.stringify(rs('rs2')),
  };
}

const fleet = Array.from({ length: SITES }, (_, i) => ({ site: siteSpec(i), stored: reports(i), receivedAt: now - (i % 50 === 0 ? 2 * WINDOW : 5_000) }));

function parseAll(): Record<string, NodeInput>[] {
  return fleet.map((f) => {
    const nodes: Record<string, NodeInput> = {};
    for (const [name, json] of Object.entries(f.stored)) {
      const status = JSON.parse(json) as NodeStatus;
      nodes[name] = { status, online: status.online, receivedAt: f.receivedAt, desired: { revision: 3, at: now - 600_000 } };
    }
    return nodes;
  });
}

const inputs = parseAll();
let previous: (SiteStatus | null)[] = fleet.map(() => null);

function evaluateAll(t: number): SiteStatus[] {
  return fleet.map((f, i) => evaluateSite(previous[i], { site: f.site, nodes: inputs[i], staleAfterMs: WINDOW }, t));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

// The first pass builds each spec's topology (once per revision in the cloud): timed apart.
const cold = time(() => (previous = evaluateAll(now)));
const floor: number[] = [];
const evals: number[] = [];
for (let r = 0; r < RUNS; r++) {
  floor.push(time(parseAll));
  evals.push(time(() => (previous = evaluateAll(now + (r + 1) * 1_000))));
}
const states = new Map<string, number>();
for (const s of previous) states.set(s!.state, (states.get(s!.state) ?? 0) + 1);

const m = median(evals);
const f = median(floor);
console.log(`bench:status — ${SITES} sites × 4 nodes, median of ${RUNS} passes`);
console.log(`  evaluate (steady, previous passed in): ${m.toFixed(1)} ms per pass, ${((m / SITES) * 1000).toFixed(1)} µs per site`);
console.log(`  floor (JSON.parse of the ${SITES * 4} reports):  ${f.toFixed(1)} ms per pass, ${((f / SITES) * 1000).toFixed(1)} µs per site`);
console.log(`  first pass (topology of every spec built): ${cold.toFixed(1)} ms`);
console.log(`  site states in the last pass: ${[...states].map(([k, v]) => `${k} ${v}`).join(', ')}`);

// One large site: what one evaluation of it costs, beside JSON.parse of its reports.
const BIG = Number(process.env.BENCH_BIG_NODES ?? 10_000);
const big = validateSite(bigSiteSpec('big', BIG));
if (!big.ok) throw new Error(JSON.stringify(big.issues.slice(0, 3)));
const bigSite = big.site;
const at = new Date(now - 2_000).toISOString();
const bigStored: Record<string, string> = {};
for (const n of bigSite.spec.nodes) {
  const base = { nodeId: `big.${n.name}`, online: true, at, appliedRevision: 1 };
  if (n.role !== 'director') {
    bigStored[n.name] = JSON.stringify({ ...base, realServer: { ok: true } });
    continue;
  }
  const byName = new Map(bigSite.spec.nodes.map((x) => [x.name, x]));
  bigStored[n.name] = JSON.stringify({
    ...base,
    site: 'big',
    node: n.name,
    pendingRevision: null,
    errors: [],
    vrrp: [
      {
        instance: 'VI_1',
        vrid: 51,
        state: n.name === 'dr1' ? 'MASTER' : 'BACKUP',
        priority: 100,
        effectivePriority: 100,
        since: new Date(now - 3_600_000).toISOString(),
      },
    ],
    services: (bigSite.spec.services ?? []).map((svc) => ({
      name: svc.name,
      quorum: true,
      realServers: svc.realServers.map((rs) => ({
        address: 'node' in rs && rs.node ? byName.get(rs.node)!.address : (rs as { address: string }).address,
        port: rs.port ?? 80,
        healthy: true,
        weight: 1,
        detail: 'tcp ok',
      })),
    })),
    ipvs: { ok: true },
  });
}
const bigInput = () => {
  const nodes: Record<string, NodeInput> = {};
  for (const [name, json] of Object.entries(bigStored)) {
    const status = JSON.parse(json) as NodeStatus;
    nodes[name] = { status, online: true, receivedAt: now - 1_000, desired: { revision: 1, at: now - 600_000 } };
  }
  return nodes;
};
const bigNodes = bigInput();
let bigPrev: SiteStatus | null = null;
const bigCold = time(() => (bigPrev = evaluateSite(null, { site: bigSite, nodes: bigNodes, staleAfterMs: WINDOW }, now)));
const bigEvals: number[] = [];
const bigFloor: number[] = [];
for (let r = 0; r < 5; r++) {
  bigFloor.push(time(bigInput));
  bigEvals.push(time(() => (bigPrev = evaluateSite(bigPrev, { site: bigSite, nodes: bigNodes, staleAfterMs: WINDOW }, now + (r + 1) * 1_000))));
}
console.log(`bench:status — one site of ${BIG} nodes, median of 5 passes (state ${bigPrev!.state})`);
console.log(`  evaluate (steady, previous passed in): ${median(bigEvals).toFixed(1)} ms; first pass ${bigCold.toFixed(1)} ms`);
console.log(`  floor (JSON.parse of its ${BIG} reports): ${median(bigFloor).toFixed(1)} ms`);
