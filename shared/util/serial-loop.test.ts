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
