import { loadavg } from 'node:os';
import { parseDocument, stringify } from 'yaml';
import { parseSite, parseSpecDocument } from '#shared/site/parse.ts';
import { bigSiteSpec } from './big-site.ts';
import { median, numberArg, syncCpuMs } from './figures.ts';

/**
 * `npm run bench:spec-parse [-- --nodes N --runs R]`: CPU of reading a site spec's text
 * (`parseSite`: what the API, the CLI and a standalone agent do with one), for the publish bench's
 * site of N nodes (default 1,000) as YAML, beside the yaml document alone (how every YAML text was
 * read before js-yaml's quick path) and the floor, JSON.parse of the same site's JSON. The first
 * read of a process (its code cold, as at an agent's start) and the median of R after it. Then a
 * hostile text: one mapping of K keys, refused (the API takes YAML bodies up to 2 MiB), by
 * `parseSite` and by yaml's own check of unique keys, which compares each key with every earlier
 * one. No assertions on time.
 */
const N = numberArg('nodes', 1000);
const RUNS = numberArg('runs', 9);

const fmt = (x: number) => x.toFixed(1);
const series = (fn: () => unknown) => {
  const first = syncCpuMs(fn);
  const rest = Array.from({ length: RUNS }, () => syncCpuMs(fn));
  return `first ${fmt(first)}, then median ${fmt(median(rest))}`;
};

const site = bigSiteSpec('bench', N);
const yaml = stringify(site);
const json = JSON.stringify(site);
if (!parseSite(yaml).ok) throw new Error('the bench site is not valid');
console.log(
  `bench:spec-parse: the ${N}-node bench site, ${(yaml.length / 1e6).toFixed(2)} MB of YAML, CPU ms; Node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
// Each row's first read is its own code's first run: the rows go from the least shared code to the most.
console.log(`  the floor, JSON.parse of its JSON: ${series(() => JSON.parse(json))}`);
console.log(`  the yaml document alone: ${series(() => parseSpecDocument(yaml))}`);
console.log(`  parseSite (js-yaml where it answers as the document would, then validation): ${series(() => parseSite(yaml))}`);

const keys = (k: number) => Array.from({ length: k }, (_, i) => `k${i}: ${i}`).join('\n');
console.log('  one mapping of K keys, refused (unknown fields), CPU ms:');
for (const k of [5_000, 10_000, 20_000, 100_000]) {
  const text = keys(k);
  const ours = syncCpuMs(() => {
    if (parseSite(text).ok) throw new Error('accepted');
  });
  // yaml's own check is quadratic: measured up to 20,000 keys (100,000 took about two minutes).
  const theirs = k <= 20_000 ? `${fmt(syncCpuMs(() => parseDocument(text, { uniqueKeys: true })))}` : 'not run';
  console.log(`    K = ${k} (${(text.length / 1e6).toFixed(2)} MB): parseSite ${fmt(ours)}; yaml's check of unique keys ${theirs}`);
}
