import { describe, expect, it } from 'vitest';
import { LineQueue } from './line-queue.ts';

describe('LineQueue', () => {
  it('hands lines out in arrival order, to waiting callers first', async () => {
    const q = new LineQueue();
    const a = q.next();
    const b = q.next();
    q.push('one');
    q.push('two');
    q.push('three');
    expect([await a, await b, await q.next()]).toEqual(['one', 'two', 'three']);
  });

  it('a caller that timed out takes nothing: the late line goes to the next caller', async () => {
    const q = new LineQueue();
    expect(await q.next(20)).toBeNull();
    q.push('late');
    expect(await q.next(20)).toBe('late');
    const waiting = q.next(1000);
    q.push('next');
    expect(await waiting).toBe('next');
  });

  it('at the end, waiting callers get null at once, lines already queued are still handed out', async () => {
    const q = new LineQueue();
    const waiting = q.next();
    q.end('exited (1)');
    expect(await waiting).toBeNull();
    expect(q.ended).toBe('exited (1)');
    const q2 = new LineQueue();
    q2.push('kept');
    q2.end('closed');
    q2.end('a second reason is ignored');
    expect(await q2.next()).toBe('kept');
    expect(await q2.next()).toBeNull();
    expect(q2.ended).toBe('closed');
  });
});
