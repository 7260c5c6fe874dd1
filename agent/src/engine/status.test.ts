import { describe, expect, it } from 'vitest';
import { buildStatus, statusFileText } from './status.ts';

describe('statusFileText', () => {
  const status = buildStatus(
    {
      nodeId: 's.d1',
      config: null,
      appliedRevision: 3,
      pendingRevision: null,
      vrrp: null,
      bfd: null,
      health: null,
      quorumUp: () => true,
      ipvs: null,
      role: null,
      errors: ['x "quoted"'],
    },
    new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
  );

  it('reads back as the whole status, from its JSON without the time and the time', () => {
    const { at, ...rest } = status;
    const text = statusFileText(at, JSON.stringify(rest));
    expect(JSON.parse(text)).toEqual(status);
    expect(text.startsWith('{"at":"2026-01-02T03:04:05.000Z",')).toBe(true);
  });

  it('is the JSON alone without a time, and a status of the time alone is one member', () => {
    expect(statusFileText(undefined, '{"nodeId":"a"}')).toBe('{"nodeId":"a"}');
    expect(JSON.parse(statusFileText('2026-01-02T03:04:05.000Z', '{}'))).toEqual({ at: '2026-01-02T03:04:05.000Z' });
  });
});
