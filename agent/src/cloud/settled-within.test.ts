import { describe, expect, it } from 'vitest';
import { settledWithin } from './settled-within.ts';

describe('settledWithin', () => {
  it('is true for a promise that resolves or rejects in time, even with no time left when it already has', async () => {
    expect(await settledWithin(1000, Promise.resolve(1))).toBe(true);
    expect(await settledWithin(1000, Promise.reject(new Error('refused')))).toBe(true);
    expect(await settledWithin(0, Promise.resolve())).toBe(true);
    expect(await settledWithin(-5, Promise.resolve())).toBe(true);
  });

  it('is false for a promise that never settles, and false before a late one settles', async () => {
    expect(await settledWithin(20, new Promise(() => {}))).toBe(false);
    let settled = false;
    const late = new Promise<void>((r) => setTimeout(() => r(), 200)).then(() => void (settled = true));
    expect(await settledWithin(20, late)).toBe(false);
    expect(settled).toBe(false);
  });
});
