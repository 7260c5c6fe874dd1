/**
 * prom-client's Registry, Gauge and Counter without its index. The index also loads the default
 * process metrics, the cluster aggregator and the Pushgateway, which need Node modules: workerd
 * under vitest-pool-workers has no `node:process` for them, and the index adds 189 KiB (34 KiB
 * gzipped) to the Worker where these three files and theirs add 31 KiB (7 KiB), measured with
 * `wrangler deploy --dry-run`.
 * These need only `util`, which nodejs_compat gives. In Node they are the very modules the index
 * exports (one CommonJS cache), so metrics made here join a registry made from the index.
 */
import Counter from 'prom-client/lib/counter.js';
import Gauge from 'prom-client/lib/gauge.js';
import Registry from 'prom-client/lib/registry.js';

export { Counter, Gauge, Registry };
