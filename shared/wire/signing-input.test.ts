import { describe, expect, it } from 'vitest';
import { signingInputWriter } from './signing-input.ts';

describe('signingInputWriter', () => {
  it("writes each input's bytes alone, however long the one before it was", () => {
    const write = signingInputWriter();
    const header = 'eyJhbGciOiJFZERTQSJ9';
    // Longest first, then shorter and longer ones: the kept buffer's older bytes must never show.
    for (const payload of ['A'.repeat(70_001), 'short_-', '', 'x', 'B'.repeat(5_000)]) {
      const bytes = write(header, payload);
      expect(Buffer.from(bytes).toString('latin1')).toBe(`${header}.${payload}`);
      expect(bytes.byteLength).toBe(header.length + 1 + payload.length);
    }
  });

  it('keeps one buffer per writer: two writers never share one', () => {
    const a = signingInputWriter();
    const b = signingInputWriter();
    const fromA = a('h', 'aaaa');
    b('h', 'bbbb');
    expect(Buffer.from(fromA).toString('latin1')).toBe('h.aaaa');
  });
});
