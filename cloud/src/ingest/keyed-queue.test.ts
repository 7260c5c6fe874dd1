import { describe, expect, it } from 'vitest';
import { KeyedQueue } from './keyed-queue.ts';

/** A job that records its start and end and finishes when `release` is called for it. */
function gate() {
  const log: string[] = [];
  const open = new Map<string, () => void>();
  const job = (name: string) => () =>
    new Promise<void>((resolve) => {
      log.push(`start ${name}`);
      open.set(name, () => {
        log.push(`end ${name}`);
        resolve();
      });
    });
  const release = async (name: string) => {
    for (let i = 0; i < 20 && !open.has(name); i++) await Promise.resolve();
    const done = open.get(name);
    if (!done) throw new Error(`${name} has not started; log: ${log.join(', ')}`);
    open.delete(name);
    done();
  };
  const started = () => [...open.keys()].sort();
  return { log, job, release, started };
}

const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe('KeyedQueue', () => {
  it('runs one job per key at a time, in push order, and different keys at once', async () => {
    const q = new KeyedQueue(8, (e) => {
      throw e;
    });
    const g = gate();
    void q.push('a', g.job('a1'));
    void q.push('a', g.job('a2'));
    void q.push('b', g.job('b1'));
    await flush();
    expect(g.started()).toEqual(['a1', 'b1']);
    await g.release('b1');
    await g.release('a1');
    await flush();
    expect(g.started()).toEqual(['a2']);
    await g.release('a2');
    await q.idle();
    expect(g.log.filter((l) => / a\d$/.test(l))).toEqual(['start a1', 'end a1', 'start a2', 'end a2']);
    expect(q.pending).toBe(0);
  });

  it('runs at most `limit` jobs at once; the next waits for a slot, in order', async () => {
    const q = new KeyedQueue(2, (e) => {
      throw e;
    });
    const g = gate();
    for (const k of ['a', 'b', 'c', 'd']) void q.push(k, g.job(k));
    await flush();
    expect(g.started()).toEqual(['a', 'b']);
    await g.release('b');
    await flush();
    expect(g.started()).toEqual(['a', 'c']);
    await g.release('a');
    await flush();
    expect(g.started()).toEqual(['c', 'd']);
    await g.release('c');
    await g.release('d');
    await q.idle();
  });

  it('a failed job goes to onError and the key goes on', async () => {
    const errors: unknown[] = [];
    const q = new KeyedQueue(1, (e) => errors.push(e));
    const ran: string[] = [];
    void q.push('a', async () => {
      throw new Error('boom');
    });
    void q.push('a', async () => {
      ran.push('a2');
    });
    await q.idle();
    expect(ran).toEqual(['a2']);
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom']);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new KeyedQueue(0, () => {})).toThrow('limit must be a positive integer, not 0');
  });
});
