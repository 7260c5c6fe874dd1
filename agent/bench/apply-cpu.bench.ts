/**
 * `npm run bench:agent-apply [-- --docs N --dir DIR]`: the CPU one agent spends on each document it
 * takes, one after another as a host's agent takes them: the intake (signature, schema, the fsynced
 * cache and its backup) and the engine's apply on the dry-run dataplane (with its role file and its
 * status file). For a real server of a 100-node site whose VIPs all move at each revision, and for
 * a director of bench:publish's 1,000-node site with one real server's weight changed at each, with
 * its health checker as a director runs it (taking each config: the 1,000 real servers' checks). Its
 * probes are never sent (the site's addresses are made up, and nothing may leave this machine), and
 * its checks' warmup of an hour keeps their scheduling, a director's steady work, out of the series.
 * Beside each, measured in the same run on the same documents: the floor, their verification alone
 * (signature and schema, no file). Then what a file step costs on libuv's threads, where a save's
 * steps that may wait for the disk run: an awaited fstat, beside the same call made directly.
 * State under DIR (default: the system's temporary directory), so the figures include that file
 * system's kernel time. Medians of 3 series of N documents (default 300 and 30), the first of each
 * (the engine's start) not counted; asserts nothing.
 */
import * as fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compileSite } from '#shared/compiler/compile.ts';
import { validateSite } from '#shared/site/validate.ts';
import type { DocumentVersion } from '#shared/wire/desired.ts';
import { nodeIdOf } from '#shared/wire/topics.ts';
import { bigSiteSpec } from '../../cloud/bench/big-site.ts';
import { median, numberArg } from '../../cloud/bench/figures.ts';
import { createDryRunDataplane } from '../src/dataplane/dry-run.ts';
import { Engine } from '../src/engine/engine.ts';
import { signDoc, testKey, type TestKey } from '../src/intake/keys.test-support.ts';
import { Intake } from '../src/intake/intake.ts';
import { verifyDesired } from '../src/intake/verify.ts';
import { statePaths } from '../src/state/paths.ts';
import { silentHealthChecker } from './silent-checker.ts';

const DIR = process.argv.includes('--dir') ? process.argv[process.argv.indexOf('--dir') + 1] : tmpdir();
const SERIES = 3;
const quiet = () => {};
const cpuMs = (from: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
};

/** Node `name`'s documents of the site, one revision each: `vary(r)` gives revision r's spec options. */
async function documents(key: TestKey, nodes: number, name: string, count: number, vary: (r: number) => Parameters<typeof bigSiteSpec>[2]) {
  const docs: string[] = [];
  for (let revision = 1; revision <= count; revision++) {
    const v = validateSite(bigSiteSpec('bench', nodes, vary(revision)));
    if (!v.ok) throw new Error(`the bench site is invalid: ${JSON.stringify(v.issues[0])}`);
    const config = compileSite(v.site).get(name);
    if (!config) throw new Error(`no node ${name}`);
    docs.push(await signDoc(key, { nodeId: nodeIdOf('bench', name), site: 'bench', revision, issuedAt: new Date().toISOString(), config }));
  }
  return { nodeId: nodeIdOf('bench', name), docs };
}

/** CPU ms per document: verification alone (the floor), then the intake and the engine's apply with their files. */
/** The process's voluntary context switches (all its threads'): each file step on libuv's threads makes some. */
const switches = () => process.resourceUsage().voluntaryContextSwitches;

async function series(
  key: TestKey,
  nodeId: string,
  docs: string[],
  withChecker: boolean,
): Promise<{ verify: number; receive: number; apply: number; switches: number }> {
  let accepted: DocumentVersion | null = null;
  const v0 = process.cpuUsage();
  for (const d of docs) {
    const r = await verifyDesired(d, [key.pub], { nodeId, accepted });
    if (!r.ok) throw new Error(`${r.why}: ${r.detail}`);
    accepted = { revision: r.claims.revision, overridesVersion: 0 };
  }
  const verify = cpuMs(v0) / docs.length;
  const dir = await mkdtemp(join(DIR, 'lvsfleet-bench-apply-'));
  const engine = new Engine({
    nodeId,
    stateDir: dir,
    log: quiet,
    dataplane: createDryRunDataplane(quiet),
    startHealthChecker: withChecker ? silentHealthChecker : undefined,
  });
  const intake = new Intake({ nodeId, keys: [key.pub], paths: statePaths(dir), log: quiet, onReject: (r) => console.error(`rejected: ${r.why}: ${r.detail}`) });
  let receive = 0;
  let apply = 0;
  let s0 = switches();
  try {
    for (const [n, d] of docs.entries()) {
      // The first document starts the engine (and a director's checker, with its 1,000 targets): not
      // a change, so not counted; the switches are counted from the second on too.
      if (n === 1) s0 = switches();
      const r0 = process.cpuUsage();
      const claims = await intake.receive(d);
      if (n > 0) receive += cpuMs(r0);
      if (!claims) throw new Error('a document was not taken');
      const a0 = process.cpuUsage();
      const out = await engine.apply(claims.config, claims.revision, []);
      // The status file is written in a turn of its own after the apply: counted with it.
      await engine.idle();
      if (n > 0) apply += cpuMs(a0);
      if (!out.ok) throw new Error(out.errors.join('; '));
    }
  } finally {
    await engine.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const changes = docs.length - 1;
  return { verify, receive: receive / changes, apply: apply / changes, switches: (switches() - s0) / changes };
}

async function row(label: string, key: TestKey, nodeId: string, docs: string[], withChecker = false): Promise<string> {
  const runs: Awaited<ReturnType<typeof series>>[] = [];
  await series(key, nodeId, docs.slice(0, Math.min(20, docs.length)), withChecker); // warm-up: the code compiled
  for (let i = 0; i < SERIES; i++) runs.push(await series(key, nodeId, docs, withChecker));
  const m = (k: keyof (typeof runs)[number]) => median(runs.map((r) => r[k]));
  const f = (x: number) => x.toFixed(3);
  return `  ${label} (${(docs[0].length / 1e3).toFixed(1)} KB), ${docs.length} documents: intake ${f(m('receive'))} + apply ${f(m('apply'))} = ${f(m('receive') + m('apply'))} ms of CPU each, ${m('switches').toFixed(1)} context switches; the floor, verification alone: ${f(m('verify'))} ms`;
}

async function fileStep(): Promise<string> {
  const fstat = promisify(fs.fstat);
  const fd = fs.openSync(DIR, 'r');
  const N = 5000;
  const onThreads: number[] = [];
  const direct: number[] = [];
  for (let s = 0; s < SERIES; s++) {
    let c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) await fstat(fd);
    onThreads.push((cpuMs(c0) * 1000) / N);
    c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) fs.fstatSync(fd);
    direct.push((cpuMs(c0) * 1000) / N);
  }
  fs.closeSync(fd);
  return `  a file step on libuv's threads (an awaited fstat): ${median(onThreads).toFixed(1)} µs of CPU; the same call made directly: ${median(direct).toFixed(1)} µs`;
}

const key = await testKey();
const rs = await documents(key, 100, 'rs1', numberArg('docs', 300), (r) => ({ vipBase: r % 200 }));
const dr = await documents(key, 1000, 'dr1', Math.max(5, Math.round(numberArg('docs', 300) / 10)), (r) => ({ rs1Weight: r, checkWarmup: '1h' }));
console.log(`bench:agent-apply: one agent's documents one after another, state under ${DIR}, Node ${process.version}; medians of ${SERIES} series`);
console.log(await row('a real server, every VIP moved', key, rs.nodeId, rs.docs));
console.log(await row("a director of 1,000 nodes, one real server's weight, with its health checker", key, dr.nodeId, dr.docs, true));
console.log(await fileStep());
console.log(
  `  load average: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
