import { afterEach, describe, expect, it, vi } from 'vitest';
import { startSerialLoop } from './serial-loop.ts';

describe('startSerialLoop', () => {
  afterEach(() => vi.useRealTimers());

  it('never overlaps steps, reports a failing step and goes on', async () => {
    const events: string[] = [];
    let n = 0;
    const errors: string[] = [];
    const loop = startSerialLoop(
      async () => {
        const i = ++n;
        events.push(`start ${i}`);
        await new Promise((r) => setTimeout(r, 5));
        events.push(`end ${i}`);
        if (i === 2) throw new Error('boom');
        return i;
      },
      { pollMs: 60_000, onError: (e) => errors.push(e.message) },
    );
    const runs = [loop.run(), loop.run().catch((e: Error) => e.message), loop.run()];
    expect(await Promise.all(runs)).toEqual([1, 'boom', 3]);
    expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    expect(errors).toEqual(['boom']);
    await loop.close();
  });

  it('coalesces kicks made before the step starts, polls every pollMs, and stops kicking once closed', async () => {
    vi.useFakeTimers();
    let steps = 0;
    const loop = startSerialLoop(async () => void steps++, { pollMs: 1000, onError: () => {} });
    loop.kick();
    loop.kick();
    loop.kick();
    await vi.advanceTimersByTimeAsync(0);
    expect(steps).toBe(1);
    // The poll at 1000 ms kicks; the kick's step starts on the next timer turn.
    await vi.advanceTimersByTimeAsync(1001);
    expect(steps).toBe(2);
    await loop.close();
    expect(loop.closed).toBe(true);
    loop.kick();
    await vi.advanceTimersByTimeAsync(5000);
    expect(steps).toBe(2);
  });

  it('coalesces the kicks made while a step runs into one step after it, and a kick once that one started into another', async () => {
    const events: string[] = [];
    /** Each running step's release. */
    const gates: (() => void)[] = [];
    let onStart: (() => void) | null = null;
    let n = 0;
    const loop = startSerialLoop(
      async () => {
        const i = ++n;
        events.push(`start ${i}`);
        onStart?.();
        await new Promise<void>((r) => gates.push(r));
        events.push(`end ${i}`);
      },
      { pollMs: 60_000, onError: () => {} },
    );
    const nextStart = () => new Promise<void>((r) => (onStart = r));
    let started = nextStart();
    loop.kick();
    await started;
    // A burst while step 1 runs, each kick in a turn of its own (a hundred applies during one drain).
    for (let i = 0; i < 100; i++) {
      loop.kick();
      await new Promise((r) => setTimeout(r, 0));
    }
    started = nextStart();
    gates.shift()!();
    await started;
    // Step 2 has started: a kick now asks for one more step after it.
    loop.kick();
    started = nextStart();
    gates.shift()!();
    await started;
    gates.shift()!();
    await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    await loop.close();
  });

  it('close waits for the step in progress', async () => {
    let done = false;
    const loop = startSerialLoop(
      async () => {
        await new Promise((r) => setTimeout(r, 20));
        done = true;
      },
      { pollMs: 60_000, onError: () => {} },
    );
    void loop.run();
    await loop.close();
    expect(done).toBe(true);
  });
});
