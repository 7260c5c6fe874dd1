import { compileSite } from '#shared/compiler/compile.ts';
import { validateSite } from '#shared/site/validate.ts';
import { bigSiteSpec } from './big-site.ts';
import { median, numberArg, syncCpuMs } from './figures.ts';

/**
 * `npm run bench:compile [-- --nodes N --runs R]`: CPU time of compileSite() for the publish
 * bench's site (two directors, N−2 real servers), median and min of R runs after one warm-up,
 * beside a floor measured in the same run: a structuredClone of the compiled configs (the least
 * any compiler must spend to build that many objects).
 */
const N = numberArg('nodes', 1000);
const RUNS = numberArg('runs', 15);

const v = validateSite(bigSiteSpec('bench', N));
if (!v.ok) throw new Error(`bench site invalid: ${JSON.stringify(v.issues)}`);
const site = v.site;

const fmt = (x: number) => x.toFixed(1);

const compiled = compileSite(site);
const compile: number[] = [];
const floor: number[] = [];
for (let i = 0; i < RUNS; i++) {
  compile.push(syncCpuMs(() => compileSite(site)));
  floor.push(syncCpuMs(() => structuredClone(compiled)));
}
console.log(`compileSite, ${N} nodes, ${RUNS} runs, CPU ms`);
console.log(`  compile: median ${fmt(median(compile))}, min ${fmt(Math.min(...compile))} (${fmt((median(compile) / N) * 1000)} µs per node)`);
console.log(`  floor (structuredClone of the output): median ${fmt(median(floor))}, min ${fmt(Math.min(...floor))}`);
