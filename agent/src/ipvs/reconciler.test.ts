import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryHost } from '../dataplane/memory-host.ts';
import { configFor, NODES, tempDir } from '../engine/engine.test-support.ts';
import { IpvsReconciler } from './reconciler.ts';

/** A host whose kernel already holds `n` real servers of a service that is not ours (another tool's). */
function hostWith(n: number): MemoryHost {
  const host = new MemoryHost();
  host.ipvs.restore(
    [
      `-A -t 10.98.0.1:80 -s wlc`,
      ...Array.from({ length: n }, (_, i) => `-a -t 10.98.0.1:80 -r 10.97.${Math.floor(i / 250)}.${(i % 250) + 1}:80 -g -w 1`),
    ].join('\n'),
  );
  expect(host.ipvs.save().split('\n').filter(Boolean)).toHaveLength(n + 1);
  return host;
}

describe('IpvsReconciler: the event loop during a pass', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  /**
   * How many turns of the loop a timer got from the moment the kernel's table had been read until
   * the pass applied its batch: the timer, set again each time it runs, stands for the VRRP adverts
   * and BFD packets due meanwhile.
   */
  async function timerRunsBeforeApply(kernelDests: number): Promise<number> {
    const host = hostWith(kernelDests);
    let runs = 0;
    let runsAtApply: number | null = null;
    const tick = () => {
      runs++;
      if (runsAtApply === null) setTimeout(tick, 0);
    };
    const read = host.ipvsRead.bind(host);
    const apply = host.ipvsApply.bind(host);
    // The memory kernel itself, with a mark at each end of the pass's plan (a decorator, not a stand-in).
    host.ipvsRead = async () => {
      const snap = await read();
      setTimeout(tick, 0);
      return snap;
    };
    host.ipvsApply = async (ops) => {
      runsAtApply ??= runs;
      return apply(ops);
    };
    const r = new IpvsReconciler({ dataplane: host, ownedPath: join(dir, `owned-${kernelDests}.json`), now: () => 0, log: () => {}, emit: () => {} });
    const web = { name: 'web', vip: '10.99.0.50', port: 80, protocol: 'tcp', scheduler: 'wrr', forwarding: 'dr', realServers: [{ node: 'rs1', weight: 1 }] };
    r.setConfig(configFor({ nodes: NODES, services: [web] }, 'd1').services, false);
    expect(await r.reconcile()).toMatchObject({ ok: true, ops: 2 });
    // The other tool's service is left as it was.
    expect(host.ipvs.save()).toContain('-A -t 10.98.0.1:80 -s wlc');
    return runsAtApply!;
  }

  it('lets timers run after reading a table of more than 2,000 real servers, and again before planning', async () => {
    expect(await timerRunsBeforeApply(2_500)).toBe(2);
  });

  it('reads, plans and applies a small table in one run of the loop', async () => {
    expect(await timerRunsBeforeApply(10)).toBe(0);
  });
});
