import { randomInt } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import type { NodeEvent } from '#shared/wire/events.ts';
import { startBfd, type BfdDriver } from '../bfd/driver.ts';
import { MemoryHost } from '../dataplane/memory-host.ts';
import { Engine } from './engine.ts';
import { configFor, eventsOf, tempDir } from './engine.test-support.ts';
import type { StartBfdPart, VrrpPart } from './parts.ts';

// Two directors on loopback addresses of their own (127.0.0.0/8 is all local on Linux), BFD on a
// random port so parallel runs do not meet. d1 runs the engine; d2 is a bare BFD driver.
const net = `127.${randomInt(1, 250)}.${randomInt(1, 250)}`;
const D1 = `${net}.1`;
const D2 = `${net}.2`;
const port = randomInt(20_000, 40_000);
const spec = (extra: Record<string, unknown> = {}) => ({
  nodes: [
    { name: 'd1', role: 'director', address: D1, interface: 'lo' },
    { name: 'd2', role: 'director', address: D2, interface: 'lo' },
  ],
  vrrp: [
    {
      name: 'VI_1',
      vrid: 50,
      vips: ['10.99.0.50/32'],
      members: [
        { node: 'd1', priority: 100 },
        { node: 'd2', priority: 90 },
      ],
    },
  ],
  ...extra,
});
const fast = { bfd: [{ name: 'dr-pair', between: ['d1', 'd2'], minRx: '20ms', minTx: '20ms', multiplier: 3 }] };

describe('engine with BFD (real driver on loopback)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let events: NodeEvent[];
  let told: { name: string; up: boolean }[];
  let engine: Engine;
  let peer: BfdDriver | null;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    events = [];
    told = [];
    peer = null;
    const vrrp: VrrpPart = { update: async () => {}, status: () => [], stop: async () => {}, bfd: (c) => told.push(c) };
    const startBfdPart: StartBfdPart = (o) => startBfd(o.sessions, { onChange: o.onChange, log: o.log, port });
    engine = new Engine({
      nodeId: 't.d1',
      dataplane: new MemoryHost(),
      stateDir: dir,
      log: () => {},
      emit: (e) => events.push(e),
      verifyIntervalMs: 60_000,
      startVrrp: async () => vrrp,
      startBfd: startBfdPart,
    });
  });
  afterEach(async () => {
    await engine.stop();
    await peer?.stop();
    await cleanup();
  });

  it('runs the sessions of the config: events, VRRP told, status; a peer going away is Down; a removed session is gone', async () => {
    expect((await engine.apply(configFor(spec(fast), 'd1'), 1)).ok).toBe(true);
    expect(engine.status().bfd).toEqual([{ name: 'dr-pair', peer: D2, state: 'Down', since: expect.any(String), detectionTimeMs: 0 }]);
    peer = await startBfd([{ name: 'dr-pair', local: D2, peer: D1, minRxMs: 20, minTxMs: 20, multiplier: 3 }], { onChange: () => {}, port });
    await waitFor(() => engine.status().bfd?.[0].state === 'Up', { what: 'the session Up' });
    expect(told.at(-1)).toEqual({ name: 'dr-pair', up: true });
    expect(eventsOf(events, 'bfd.transition').at(-1)?.data).toMatchObject({ session: 'dr-pair', peer: D2, to: 'Up' });

    await peer.stop();
    peer = null;
    await waitFor(() => engine.status().bfd?.[0].state === 'Down', { what: 'the session Down' });
    expect(told.at(-1)).toEqual({ name: 'dr-pair', up: false });
    // The peer said AdminDown on its way out: diag 3, Neighbor Signaled Session Down.
    expect(eventsOf(events, 'bfd.transition').at(-1)?.data).toMatchObject({ to: 'Down', diag: 3 });

    expect((await engine.apply(configFor(spec({ bfdDefault: false }), 'd1'), 2)).ok).toBe(true);
    expect(engine.status().bfd).toBeUndefined();
  });

  it('a two-director pair gets the default session with no bfd in the spec', async () => {
    expect((await engine.apply(configFor(spec(), 'd1'), 1)).ok).toBe(true);
    expect(engine.status().bfd).toMatchObject([{ name: 'pair-d1-d2', peer: D2, state: 'Down' }]);
  });
});

describe('engine stop order', () => {
  it('stops BFD and VRRP in one go: AdminDown first, the priority-0 advert without waiting for BFD sockets to close', async () => {
    const { dir, cleanup } = await tempDir();
    const calls: string[] = [];
    let releaseBfd = () => {};
    const vrrp: VrrpPart = {
      update: async () => {},
      status: () => [],
      stop: async () => void calls.push('vrrp stop'),
      bfd: () => {},
    };
    const engine = new Engine({
      nodeId: 't.d1',
      dataplane: new MemoryHost(),
      stateDir: dir,
      log: () => {},
      emit: () => {},
      verifyIntervalMs: 60_000,
      startVrrp: async () => vrrp,
      startBfd: async () => ({
        update: async () => {},
        status: () => [],
        // A BFD stop that has sent its AdminDown but whose sockets are still closing.
        stop: () => (calls.push('bfd stop'), new Promise<void>((r) => (releaseBfd = r))),
      }),
    });
    try {
      expect((await engine.apply(configFor(spec(fast), 'd1'), 1)).ok).toBe(true);
      const stopped = engine.stop();
      await waitFor(() => calls.length === 2, { what: 'both parts told to stop' });
      expect(calls).toEqual(['bfd stop', 'vrrp stop']);
      releaseBfd();
      await stopped;
    } finally {
      await cleanup();
    }
  });
});
