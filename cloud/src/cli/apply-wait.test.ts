import { describe, expect, it } from 'vitest';
import type { ApplyResult } from '../sites/decide.ts';
import { POLL_COST_FACTOR, waitForRevision } from './apply-wait.ts';
import type { ApiClient } from './client.ts';
import { memoryIO } from './test-io.test-support.ts';

/**
 * A site whose progress answers take `costMs` each on a clock of the test's own, its one node
 * applying revision 2 at the `appliesAt`-th answer: the pauses the wait asks for are recorded.
 */
function fixture(costMs: number, appliesAt: number) {
  let clock = 0;
  let answers = 0;
  const sleeps: number[] = [];
  const client: ApiClient = {
    baseUrl: 'http://127.0.0.1:1',
    call: async <T>(method: string, path: string) => {
      expect(`${method} ${path}`).toBe('GET /v1/sites/s/revisions/2/progress');
      clock += costMs;
      answers += 1;
      return { nodes: [{ name: 'rs1', appliedRevision: answers >= appliesAt ? 2 : 1, errors: [] }], rollout: null } as T;
    },
  };
  const result = { site: 's', revision: 2, previousRevision: 1, unchanged: false, dryRun: false, publishedNodes: ['rs1'] } as unknown as ApplyResult;
  const run = (timeoutMs: number) =>
    waitForRevision(client, memoryIO({}), result, {
      timeoutMs,
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
    });
  return { run, sleeps };
}

describe('apply --wait', () => {
  it('polls every second while a poll is quick', async () => {
    const f = fixture(20, 4);
    expect(await f.run(60_000)).toBe(0);
    expect(f.sleeps).toEqual([1000, 1000, 1000]);
  });

  it('waits longer after a slow poll (a large site), so that polling takes at most a fifth of the time', async () => {
    const f = fixture(700, 4);
    expect(await f.run(60_000)).toBe(0);
    expect(f.sleeps).toEqual([700 * POLL_COST_FACTOR, 700 * POLL_COST_FACTOR, 700 * POLL_COST_FACTOR]);
  });

  it('never sleeps past its deadline, however slow the polls', async () => {
    const f = fixture(700, 100);
    expect(await f.run(5_000)).toBe(1);
    // 700 + 2,800, then 700 more: 800 ms are left before the deadline, and the last pause takes them.
    expect(f.sleeps).toEqual([2800, 800]);
  });
});
