import { describe, expect, it } from 'vitest';
import { waitFor, within } from './wait-for.test-support.ts';

describe('waitFor', () => {
  it('returns the first truthy value, sync or async', async () => {
    let n = 0;
    expect(await waitFor(() => ++n >= 3 && n, { intervalMs: 1 })).toBe(3);
    expect(await waitFor(async () => 'ready')).toBe('ready');
  });

  it('names what it waited for when time runs out', async () => {
    await expect(waitFor(() => false, { timeoutMs: 30, intervalMs: 5, what: 'the broker' })).rejects.toThrow('timed out after 30 ms waiting for the broker');
  });

  it('stops at the first exception of the condition', async () => {
    let calls = 0;
    const cond = () => {
      calls++;
      throw new Error('boom');
    };
    await expect(waitFor(cond)).rejects.toThrow('boom');
    expect(calls).toBe(1);
  });
});

describe('within', () => {
  it('answers whether the condition held in time', async () => {
    let n = 0;
    expect(await within(() => ++n >= 3, 1_000)).toBe(true);
    expect(await within(() => false, 30)).toBe(false);
  });

  it('throws an exception of the condition instead of answering no', async () => {
    await expect(
      within(() => {
        throw new Error('boom');
      }, 30),
    ).rejects.toThrow('boom');
  });
});
