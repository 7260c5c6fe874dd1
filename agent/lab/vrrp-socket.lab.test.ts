import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DRAIN_MAX } from '../src/dataplane/vrrp-linux-socket.ts';
import { destroyAllLabs, NetnsLab, netnsUnavailable } from './netns.ts';
import { capture, waitFor } from './pair.ts';

const skip = netnsUnavailable([]);
if (skip) console.log(`netns VRRP socket lab skipped: ${skip}`);
const RUNNER = resolve(import.meta.dirname, 'vrrp-socket-runner.ts');

afterAll(destroyAllLabs);

describe.skipIf(!!skip)('our IPv4 VRRP socket on a real link', () => {
  it('reads every advert queued while the event loop was held in the next turn, not one per turn', async () => {
    const lab = new NetnsLab();
    try {
      await lab.setup([
        { name: 'd1', host: 11 },
        { name: 'd2', host: 12 },
      ]);
      const out: string[] = [];
      const node = (name: string, args: string[]) =>
        capture(lab.spawn(name, [process.execPath, '--import', 'tsx', RUNNER, lab.host(name).address, ...args]), out);
      const go = join(lab.dir, 'go');
      const held = node('d1', ['block', go]);
      await waitFor(async () => out.includes('ready'), 30_000, 'the receiver to hold its event loop');
      const sent = 20;
      const sender = node('d2', ['send', String(sent)]);
      await new Promise((r) => sender.on('close', r));
      writeFileSync(go, '');
      await new Promise((r) => held.on('close', r));
      const count = (what: string) => Number(out.find((l) => l.startsWith(`${what} `))?.split(' ')[1]);
      expect(
        out.filter((l) => l.startsWith('error')),
        out.join('\n'),
      ).toEqual([]);
      expect(count('total'), out.join('\n')).toBe(sent);
      // raw-socket alone hands over one datagram per turn; the rest waited for later turns.
      expect(count('first-turn')).toBe(Math.min(sent, 1 + DRAIN_MAX));
    } finally {
      await lab.destroy();
    }
  }, 60_000);
});
