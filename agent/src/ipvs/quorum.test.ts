import { describe, expect, it } from 'vitest';
import { quorumStep } from './quorum.ts';

describe('quorumStep (keepalived quorum ± hysteresis)', () => {
  it('first evaluation has no event; lost below q-h; restored at q+h; holds in between', () => {
    expect(quorumStep(undefined, 1, 3, 1)).toEqual({ up: false, changed: false });
    expect(quorumStep(true, 2, 3, 1)).toEqual({ up: true, changed: false });
    expect(quorumStep(true, 1, 3, 1)).toEqual({ up: false, changed: true });
    expect(quorumStep(false, 3, 3, 1)).toEqual({ up: false, changed: false });
    expect(quorumStep(false, 4, 3, 1)).toEqual({ up: true, changed: true });
  });
});
