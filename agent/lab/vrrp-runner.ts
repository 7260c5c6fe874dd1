/**
 * Minimal standalone VRRP process for the lab and the failover bench: compiles one node of a site
 * spec and runs startVrrp on the Linux host. `lvsfleet-agent run --spec` does the same inside the
 * full engine; this runner exists so the lab can time VRRP alone.
 * Usage: node --import tsx agent/lab/vrrp-runner.ts --spec FILE --node NAME [--nice N]
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { compileNode } from '#shared/compiler/compile.ts';
import { parseSite } from '#shared/site/parse.ts';
import { createLinuxVrrpHost } from '../src/dataplane/vrrp-host-linux.ts';
import { startVrrp } from '../src/vrrp/driver.ts';

const { values } = parseArgs({ options: { spec: { type: 'string' }, node: { type: 'string' }, nice: { type: 'string' } } });
if (!values.spec || !values.node) {
  process.stderr.write('usage: vrrp-runner --spec FILE --node NAME\n');
  process.exit(2);
}
const parsed = parseSite(readFileSync(values.spec, 'utf8'));
if (!parsed.ok) {
  for (const i of parsed.issues) process.stderr.write(`${i.path}: ${i.message}\n`);
  process.exit(2);
}
const cfg = compileNode(parsed.site, values.node);
const log = (line: string) => process.stdout.write(`${performance.now().toFixed(1)} ${line}\n`);
const runner = await startVrrp({
  nodeId: `${cfg.site}.${cfg.node.name}`,
  node: cfg.node,
  config: cfg.vrrp,
  host: createLinuxVrrpHost({ log, ...(values.nice ? { nice: Number(values.nice) } : {}) }),
  emit: () => {},
  log,
});
log('vrrp runner started');
// Drop counters and states once a second, for the lab's failure messages.
let lastReport = '';
setInterval(() => {
  const d = Object.entries(runner.drops()).filter(([, n]) => n > 0);
  const line = `drops ${d.map(([k, n]) => `${k}=${n}`).join(' ') || 'none'}; ${runner
    .status()
    .map((s) => `${s.instance} ${s.state} ${s.effectivePriority}`)
    .join(', ')}`;
  if (line !== lastReport) log(line);
  lastReport = line;
}, 1000).unref();
let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    void runner.stop().then(() => process.exit(0));
  });
