import { describe, expect, it } from 'vitest';
import { runStateHooks } from './notify.ts';

const hooks = { master: '/m', backup: '/b', fault: null, stop: '/s', any: '/any' };

describe('VRRP state hooks', () => {
  it("runs the state's own script without arguments, then the generic one with its arguments", () => {
    const calls: [string, string[]][] = [];
    const host = { notify: (c: string, a: string[]) => void calls.push([c, a]) };
    runStateHooks(host, hooks, 'MASTER', ['INSTANCE', 'VI_1', 'MASTER', '100']);
    runStateHooks(host, hooks, 'FAULT', ['GROUP', 'G1', 'FAULT']);
    runStateHooks(host, { ...hooks, any: null }, 'STOP', ['INSTANCE', 'VI_1', 'STOP', '0']);
    expect(calls).toEqual([
      ['/m', []],
      ['/any', ['INSTANCE', 'VI_1', 'MASTER', '100']],
      ['/any', ['GROUP', 'G1', 'FAULT']],
      ['/s', []],
    ]);
  });
});
