import { describe, expect, it } from 'vitest';
import { joinedChunks } from './joined-chunks.ts';

describe('joinedChunks', () => {
  it('joins the chunks in order into a copy of their own', () => {
    const pool = Buffer.from('0123456789');
    const chunks = [pool.subarray(0, 3), pool.subarray(3, 3), pool.subarray(5, 10), Buffer.from([0xff])].map((chunk) => ({ chunk }));
    const out = joinedChunks(chunks);
    expect(Buffer.from(out).toString('latin1')).toBe('01256789\xff');
    expect(out.buffer).not.toBe(pool.buffer);
    pool.fill(0x20);
    expect(Buffer.from(out).toString('latin1')).toBe('01256789\xff');
    expect(joinedChunks([])).toEqual(new Uint8Array(0));
  });
});
