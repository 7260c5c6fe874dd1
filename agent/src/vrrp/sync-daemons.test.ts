import { describe, expect, it } from 'vitest';
import type { VrrpState } from '#shared/wire/status.ts';
import { HOLD_UNSYNCED_MS, LINGER_MS, syncDaemonsFor, syncTransitionActions } from './sync-daemons.ts';

const STATES: VrrpState[] = ['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOP'];

describe('connection sync across transitions', () => {
  it('both daemons in every running state, none in INIT or STOP', () => {
    expect(STATES.map((s) => [s, syncDaemonsFor(s)])).toEqual([
      ['INIT', []],
      ['BACKUP', ['master', 'backup']],
      ['MASTER', ['master', 'backup']],
      ['FAULT', ['master', 'backup']],
      ['STOP', []],
    ]);
  });

  it('a move between running states starts or stops no daemon', () => {
    for (const from of ['BACKUP', 'MASTER', 'FAULT'] as const)
      for (const to of ['BACKUP', 'MASTER', 'FAULT'] as const) expect(syncTransitionActions(from, to).filter((a) => a.type === 'sync-daemon')).toEqual([]);
  });

  it('the hold: on from the start and whenever MASTER is left, timed release on MASTER, released at STOP', () => {
    const hold = (as: ReturnType<typeof syncTransitionActions>) => as.filter((a) => a.type !== 'linger-vips');
    expect(hold(syncTransitionActions('INIT', 'BACKUP'))).toEqual([
      { type: 'sync-daemon', daemons: ['master', 'backup'] },
      { type: 'hold-unsynced', releaseAfterMs: null },
    ]);
    expect(hold(syncTransitionActions('INIT', 'MASTER'))).toEqual([
      { type: 'sync-daemon', daemons: ['master', 'backup'] },
      { type: 'hold-unsynced', releaseAfterMs: HOLD_UNSYNCED_MS },
    ]);
    expect(hold(syncTransitionActions('BACKUP', 'MASTER'))).toEqual([{ type: 'hold-unsynced', releaseAfterMs: HOLD_UNSYNCED_MS }]);
    expect(hold(syncTransitionActions('MASTER', 'BACKUP'))).toEqual([{ type: 'hold-unsynced', releaseAfterMs: null }]);
    expect(hold(syncTransitionActions('MASTER', 'FAULT'))).toEqual([{ type: 'hold-unsynced', releaseAfterMs: null }]);
    // Already held: BACKUP ⇄ FAULT changes nothing.
    expect(syncTransitionActions('BACKUP', 'FAULT')).toEqual([]);
    expect(syncTransitionActions('FAULT', 'BACKUP')).toEqual([]);
    expect(hold(syncTransitionActions('MASTER', 'STOP'))).toEqual([
      { type: 'sync-daemon', daemons: [] },
      { type: 'hold-unsynced', releaseAfterMs: 0 },
    ]);
  });

  it('a new MASTER copies what it holds to the director that handed over, only when one did', () => {
    expect(syncTransitionActions('BACKUP', 'MASTER', '10.0.0.1')).toEqual([
      { type: 'linger-vips', releaseAfterMs: 0 },
      { type: 'hold-unsynced', releaseAfterMs: HOLD_UNSYNCED_MS, forwardTo: '10.0.0.1' },
    ]);
    expect(syncTransitionActions('BACKUP', 'MASTER', null).find((a) => a.type === 'hold-unsynced')).toEqual({
      type: 'hold-unsynced',
      releaseAfterMs: HOLD_UNSYNCED_MS,
    });
  });

  it('the old MASTER lingers when it leaves for BACKUP or FAULT; the linger ends on the way to MASTER, at STOP and at the start', () => {
    const linger = (from: VrrpState, to: VrrpState) => syncTransitionActions(from, to).filter((a) => a.type === 'linger-vips');
    expect(linger('MASTER', 'BACKUP')).toEqual([{ type: 'linger-vips', releaseAfterMs: LINGER_MS }]);
    expect(linger('MASTER', 'FAULT')).toEqual([{ type: 'linger-vips', releaseAfterMs: LINGER_MS }]);
    for (const [from, to] of [
      ['BACKUP', 'MASTER'],
      ['FAULT', 'MASTER'],
      ['MASTER', 'STOP'],
      ['BACKUP', 'STOP'],
      ['INIT', 'BACKUP'],
      ['INIT', 'FAULT'],
      ['STOP', 'BACKUP'],
    ] as const)
      expect(linger(from, to), `${from}→${to}`).toEqual([{ type: 'linger-vips', releaseAfterMs: 0 }]);
    expect(linger('BACKUP', 'FAULT')).toEqual([]);
    expect(linger('FAULT', 'BACKUP')).toEqual([]);
    // Every copy the new MASTER sends in its hold window (after Skew_Time) still finds the linger.
    expect(LINGER_MS).toBeGreaterThan(HOLD_UNSYNCED_MS);
  });

  it('the hold outlasts the longest wait of a part-filled IPVS sync buffer (2 s + a 1 s check)', () => {
    expect(HOLD_UNSYNCED_MS).toBeGreaterThan(3000);
  });
});
