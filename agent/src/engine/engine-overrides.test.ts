import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { override } from '#shared/overrides/overrides.test-support.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { MemoryHost } from '../dataplane/memory-host.ts';
import { Engine, type EngineOptions } from './engine.ts';
import { NODES, configFor, tempDir } from './engine.test-support.ts';

const web = {
  name: 'web',
  vip: '10.99.0.50',
  port: 80,
  scheduler: 'wrr',
  forwarding: 'dr',
  realServers: [
    { node: 'rs1', weight: 2 },
    { node: 'rs2', weight: 1 },
  ],
};
const config = configFor({ nodes: NODES, services: [web] }, 'd1');
const T0 = Date.parse('2026-01-01T00:30:00Z');
const drainRs1 = override('drain-realserver', { address: '10.99.0.21', node: 'rs1', until: '2026-01-01T01:00:00.000Z' });

describe('engine with overrides (in-memory kernel)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let host: MemoryHost;
  let wall: number;
  let mono: number;
  let engines: Engine[];
  const make = (o: Partial<EngineOptions> = {}) => {
    const e = new Engine({
      nodeId: 't.d1',
      dataplane: host,
      stateDir: dir,
      log: () => {},
      verifyIntervalMs: 60_000,
      wallNow: () => wall,
      now: () => mono,
      ...o,
    });
    engines.push(e);
    return e;
  };
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    host = new MemoryHost();
    wall = T0;
    mono = 1000;
    engines = [];
  });
  afterEach(async () => {
    for (const e of engines) await e.stop();
    await cleanup();
  });

  it('a drain puts the real server at weight 0 (an edit, not a delete), reports its connections as they fall, drained at 0; expiry restores the revision', async () => {
    const e = make();
    await e.apply(config, 1);
    const key = 'tcp:10.99.0.50:80|10.99.0.21:80';
    host.ipvs.activeConns.set(key, 7);
    const r = await e.apply(config, 1, [drainRs1]);
    expect(r.ok).toBe(true);
    expect(host.ipvs.save()).toContain('-a -t 10.99.0.50:80 -r 10.99.0.21:80 -g -w 0');
    expect(host.ipvs.batches.at(-1)).toBe('-e -t 10.99.0.50:80 -r 10.99.0.21:80 -g -w 0\n');
    expect(e.status().overrides).toEqual([{ id: drainRs1.id, kind: 'drain-realserver', until: drainRs1.until, state: 'draining', activeConnections: 7 }]);
    expect(e.status().services![0].realServers[0]).toMatchObject({ address: '10.99.0.21', weight: 0, activeConnections: 7 });
    host.ipvs.activeConns.set(key, 2);
    await e.verify();
    expect(e.status().overrides![0]).toMatchObject({ state: 'draining', activeConnections: 2 });
    host.ipvs.activeConns.set(key, 0);
    await e.verify();
    expect(e.status().overrides![0]).toMatchObject({ state: 'drained', activeConnections: 0 });

    // The agent's clock passes `until`: the periodic verification re-layers without any new document.
    wall = Date.parse(drainRs1.until);
    await e.verify();
    await e.idle();
    expect(host.ipvs.save()).toContain('-a -t 10.99.0.50:80 -r 10.99.0.21:80 -g -w 2');
    expect(e.status().overrides).toBeUndefined();
  });

  it('a drain reports drained after the timeout even with connections left', async () => {
    const e = make({ overrideDrainTimeoutMs: 10_000 });
    host.ipvs.activeConns.set('tcp:10.99.0.50:80|10.99.0.21:80', 3);
    await e.apply(config, 1, [drainRs1]);
    expect(e.status().overrides![0].state).toBe('draining');
    mono += 10_000;
    expect(e.status().overrides![0]).toMatchObject({ state: 'drained', activeConnections: 3 });
  });

  it("an override's own drain timeout (lvsfleet drain --drain-timeout) beats the agent's default", async () => {
    const e = make({ overrideDrainTimeoutMs: 10_000 });
    host.ipvs.activeConns.set('tcp:10.99.0.50:80|10.99.0.21:80', 3);
    await e.apply(config, 1, [{ ...drainRs1, drainTimeoutMs: 60_000 }]);
    mono += 10_000;
    expect(e.status().overrides![0]).toMatchObject({ state: 'draining', activeConnections: 3 });
    mono += 50_000;
    expect(e.status().overrides![0]).toMatchObject({ state: 'drained', activeConnections: 3 });
  });

  it('expires on its own timer at `until` (the cloud gone), and ignores overrides already expired on arrival', async () => {
    wall = Date.now();
    const e = make({ wallNow: () => Date.now() });
    const soon = { ...drainRs1, until: new Date(Date.now() + 300).toISOString() };
    const old = { ...drainRs1, id: 'old', address: '10.99.0.22', until: new Date(Date.now() - 1000).toISOString() };
    await e.apply(config, 1, [soon, old]);
    expect(host.ipvs.save()).toContain('-r 10.99.0.21:80 -g -w 0');
    expect(host.ipvs.save()).toContain('-r 10.99.0.22:80 -g -w 1');
    await waitFor(() => host.ipvs.save().includes('-r 10.99.0.21:80 -g -w 2'), { timeoutMs: 5000, what: 'the drain to end at its until' });
  });

  it('disable-service quiesces a service without a sorry server; with one, the sorry server answers', async () => {
    const e = make();
    await e.apply(config, 1, [override('disable-service', { service: 'web' })]);
    expect(host.ipvs.save()).toContain('-r 10.99.0.21:80 -g -w 0');
    expect(host.ipvs.save()).toContain('-r 10.99.0.22:80 -g -w 0');
    const withSorry = configFor({ nodes: NODES, services: [{ ...web, sorryServer: { address: '10.99.0.99', port: 80 } }] }, 'd1');
    await e.apply(withSorry, 2, [override('disable-service', { service: 'web' })]);
    expect(host.ipvs.save()).toContain('-r 10.99.0.99:80 -g -w 1');
  });
});
