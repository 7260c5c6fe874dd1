/**
 * Minimal standalone BFD process for the netns lab: one session of our driver, state changes on
 * stdout as `<monotonic ms> B1 <from> -> <to> diag=<n> <reason>`.
 * Usage: node --import tsx agent/lab/bfd-runner.ts --name B1 --local ADDR --peer ADDR [--min-tx 10 --min-rx 10 --multiplier 5]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startBfd } from '../src/bfd/driver.ts';

const { values } = parseArgs({
  options: {
    name: { type: 'string', default: 'B1' },
    local: { type: 'string' },
    peer: { type: 'string' },
    'min-tx': { type: 'string', default: '10' },
    'min-rx': { type: 'string', default: '10' },
    multiplier: { type: 'string', default: '5' },
  },
});
if (!values.local || !values.peer) {
  process.stderr.write('usage: bfd-runner --local ADDR --peer ADDR\n');
  process.exit(2);
}
const out = (line: string) => process.stdout.write(`${performance.now().toFixed(1)} ${line}\n`);
const driver = await startBfd(
  [
    {
      name: values.name,
      local: values.local,
      peer: values.peer,
      minTxMs: Number(values['min-tx']),
      minRxMs: Number(values['min-rx']),
      multiplier: Number(values.multiplier),
    },
  ],
  { onChange: (c) => out(`${c.name} ${c.from} -> ${c.to} diag=${c.diag} ${c.reason}`) },
);
out('bfd runner started');
let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    void driver.stop().then(() => process.exit(0));
  });
