import type { ChildProcess } from 'node:child_process';
import { within } from '#shared/util/wait-for.test-support.ts';

/**
 * The client both hold labs run in their client namespace (`node client.js VIP`): one TCP connection
 * to VIP:7000 that writes `one`, prints `{ready}` once it is echoed, writes `two` at SIGUSR2 and
 * prints `{echoed}` when that comes back, or `{error}` (a reset, or no echo in `timeoutMs`).
 */
export function echoClientScript(timeoutMs: number): string {
  return `
const net = require('node:net');
const [vip] = process.argv.slice(2);
const s = net.connect({ host: vip, port: 7000 });
let got = '';
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
s.on('data', (d) => { got += d; if (got.includes('one\\n') && !got.includes('two')) out({ ready: true }); if (got.includes('two\\n')) { out({ echoed: true }); process.exit(0); } });
s.on('error', (e) => { out({ error: e.code || e.message }); process.exit(0); });
s.on('connect', () => s.write('one\\n'));
process.on('SIGUSR2', () => s.write('two\\n'));
setTimeout(() => { out({ error: 'no echo in ${timeoutMs / 1000} s' }); process.exit(0); }, ${timeoutMs});
`;
}

/** The client's JSON lines as they come, and a wait (polled every 20 ms, at most `ms`) for a condition on them. */
export function jsonLines(p: ChildProcess): { lines: Record<string, unknown>[]; until: (pred: () => boolean, ms: number) => Promise<void> } {
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  p.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
      buf = buf.slice(i + 1);
    }
  });
  const until = async (pred: () => boolean, ms: number) => void (await within(pred, ms));
  return { lines, until };
}
