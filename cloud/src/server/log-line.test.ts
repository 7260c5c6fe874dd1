import { describe, expect, it } from 'vitest';
import { logLine } from './log-line.ts';

describe('server log lines', () => {
  it('are one JSON object per line in pino shape, whatever the message holds', () => {
    const hostile = 'lvsfleet/v1/nodes/x/status\n{"level":30,"msg":"FORGED LOG LINE"}\r\u001b[2J\u009b31m\u007f';
    const line = logLine(hostile, new Date(1_700_000_000_000));
    expect(line.endsWith('\n')).toBe(true);
    // eslint-disable-next-line no-control-regex -- the point: no control character survives
    expect(line.slice(0, -1)).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    expect(JSON.parse(line)).toEqual({ level: 30, time: 1_700_000_000_000, pid: process.pid, msg: hostile });
  });
});
