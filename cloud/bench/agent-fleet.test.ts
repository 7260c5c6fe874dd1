import { describe, expect, it } from 'vitest';
import { agentFleet, dealNodes, type AgentsChild } from './agent-fleet.ts';

describe('dealNodes', () => {
  it('deals round-robin, so the first two nodes (the directors) land in different processes', () => {
    expect(dealNodes(['dr1', 'dr2', 'rs1', 'rs2', 'rs3'], 2)).toEqual([
      ['dr1', 'rs1', 'rs3'],
      ['dr2', 'rs2'],
    ]);
  });

  it('makes no empty share and at least one', () => {
    expect(dealNodes(['a', 'b'], 4)).toEqual([['a'], ['b']]);
    expect(dealNodes(['a', 'b'], 0)).toEqual([['a', 'b']]);
  });
});

/** An agents' process answering from memory: each node applies at once what it is sent. */
function childInMemory(log: unknown[]): AgentsChild {
  let mine: string[] = [];
  let expect: string[] = [];
  const waiting = new Map<string, (m: any) => void>();
  const reply = (m: any) => waiting.get(m.type)?.(m);
  return {
    child: {
      send(m: any) {
        log.push(m);
        if (m.type === 'start') {
          mine = m.start.nodeIds;
          queueMicrotask(() => reply({ type: 'ready', agents: mine.length, rssMiB: 10, firstApplyMs: mine.length * 10, largestBytes: mine.length * 100 }));
        } else if (m.type === 'await') {
          expect = m.expect ?? mine;
          if (expect.length)
            queueMicrotask(() => reply({ type: 'done', applied: expect.map((n) => [n, { revision: m.revision }]), round: { cpuMs: 5, systemMs: 2 } }));
        } else if (m.type === 'collect') queueMicrotask(() => reply({ type: 'collected', applied: expect.map((n) => [n, {}]) }));
        else if (m.type === 'probe') queueMicrotask(() => reply({ type: 'probed', createUs: mine.includes('dr1') ? 30 : 10 }));
      },
    },
    next: (type) => new Promise((resolve) => waiting.set(type, resolve)),
    received: async () => (await new Promise<any>((resolve) => waiting.set('done', resolve))).applied,
    stop: async () => {},
    rssMiB: 10,
    round: { cpuMs: 5, systemMs: 2 },
  };
}

describe('agentFleet', () => {
  it('starts each process with its share, waits only for the processes holding an expected node, and merges their answers', async () => {
    const logs: unknown[][] = [[], []];
    let n = 0;
    const fleet = agentFleet(2, () => childInMemory(logs[n++]));
    expect(await fleet.start({ url: 'mqtt://127.0.0.1:1', nodeIds: ['dr1', 'dr2', 'rs1', 'rs2'], keys: [] })).toEqual({
      agents: 4,
      rssMiB: 20,
      firstApplyMs: 20,
      largestBytes: 200,
    });
    fleet.await(7);
    const all = fleet.received('all');
    expect((await all).map(([id]) => id).sort()).toEqual(['dr1', 'dr2', 'rs1', 'rs2']);
    expect(fleet.round).toEqual({ cpuMs: 10, systemMs: 4 });
    // The file-creation probe is asked for only now, of every awaited process: the slowest's figure.
    expect(logs.map((l) => l.filter((m) => (m as { type: string }).type === 'probe').length)).toEqual([0, 0]);
    expect(await fleet.fileCreateUs()).toBe(30);

    fleet.await(8, ['dr2']);
    expect(logs[0].at(-1)).toEqual({ type: 'await', revision: 8, expect: [] });
    expect(logs[1].at(-1)).toEqual({ type: 'await', revision: 8, expect: ['dr2'] });
    expect(await fleet.received('dr2')).toEqual([['dr2', { revision: 8 }]]);
    // Only the awaited process's CPU counts for the round.
    expect(fleet.round).toEqual({ cpuMs: 5, systemMs: 2 });
    // Only the awaited process is probed.
    expect(await fleet.fileCreateUs()).toBe(10);
    expect(logs.map((l) => l.filter((m) => (m as { type: string }).type === 'probe').length)).toEqual([1, 2]);
    expect((await fleet.collect()).map(([id]) => id)).toEqual(['dr2']);
  });
});
